"""The results database (SQLite, one file per run), and the only module that
knows its schema. Every evaluation is a row committed as soon as it finishes
(WAL mode), so a killed run loses nothing it finished; populations are stored
per generation, so a run resumes from the last complete one. `Store.open_read`
gives a reader (`genelang status`, `load_run`) that is safe beside a running search."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from genelang.evolve.execution.evaluation import EvalResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    generation INTEGER NOT NULL,
    candidate INTEGER NOT NULL,
    phenotype TEXT NOT NULL,
    genome TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    fitness REAL,
    objectives TEXT,
    metrics TEXT,
    seconds REAL,
    worker TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS evaluations_phenotype ON evaluations (phenotype);
CREATE TABLE IF NOT EXISTS population (
    generation INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    genome TEXT NOT NULL,
    phenotype TEXT NOT NULL,
    age INTEGER NOT NULL,
    PRIMARY KEY (generation, slot)
);
CREATE TABLE IF NOT EXISTS generations (generation INTEGER PRIMARY KEY, completed REAL NOT NULL);
-- evaluations no longer part of the search: a failure evaluated again, or what
-- a replay (--retry-failed) never reached; kept for the record, read by no one
CREATE TABLE IF NOT EXISTS retired (id INTEGER PRIMARY KEY);
"""

COLUMNS = ["id", "generation", "candidate", "phenotype", "genome", "status", "reason", "fitness",
           "objectives", "metrics", "seconds", "worker", "created"]


@dataclass
class Evaluated:
    """What every view of a stored evaluation holds (the store's rows, the run page's table)."""
    id: int
    generation: int
    candidate: int
    phenotype: str
    genome: str
    status: str
    reason: str | None
    fitness: float | None
    objectives: list[float | None] | None


@dataclass
class Evaluation(Evaluated):
    """One stored evaluation."""
    metrics: dict
    seconds: float | None
    worker: str | None
    created: float

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.fitness is not None

    def result(self) -> EvalResult:
        return EvalResult(self.status, self.fitness, self.reason, self.metrics, self.seconds, self.worker)  # type: ignore[arg-type]


def _evaluation(row) -> Evaluation:
    d = dict(zip(COLUMNS, row))
    d["objectives"] = json.loads(d["objectives"]) if d["objectives"] else None
    d["metrics"] = json.loads(d["metrics"] or "{}")
    return Evaluation(**d)


def _readonly_uri(path: Path) -> str:
    """A URI SQLite opens read-only: it refuses every write, so the reader can
    never change or lock the search's database. Without a -wal file nobody
    writes the database now, and `immutable` reads it without creating the
    -wal/-shm files a read-only connection could not clean up."""
    wal = path.with_name(path.name + "-wal")
    return path.resolve().as_uri() + ("?mode=ro" if wal.exists() else "?mode=ro&immutable=1")


class Store:
    def __init__(self, path: Path, *, create: bool = True, readonly: bool = False):
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = (sqlite3.connect(_readonly_uri(path), uri=True, timeout=30) if readonly
                   else sqlite3.connect(str(path), timeout=30))
        if create:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            self.db.commit()
        # a reader of a run from before the `retired` table: every evaluation is current
        has_retired = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'retired'").fetchone()
        self._current = " id NOT IN (SELECT id FROM retired)" if has_retired else " 1"

    @classmethod
    def open_read(cls, path: Path) -> "Store":
        """A reader that changes nothing. Not SQLite's `mode=ro`: a read-only
        connection to a WAL database leaves -wal/-shm files behind, while this
        one, closed last, cleans them up like the search does."""
        return cls(path, create=False)

    @classmethod
    def open_readonly(cls, path: Path) -> "Store":
        """A reader SQLite itself keeps from writing (`mode=ro`), for one that
        polls beside a running search for hours (the run page). Open one per
        read: a connection held open would pin the WAL and keep it growing."""
        return cls(path, create=False, readonly=True)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # evaluations
    def add_evaluation(self, generation: int, candidate: int, phenotype: str, genome: str,
                       result: EvalResult, objectives: list[float] | None) -> int:
        """Store one evaluation; returns its id."""
        with self.db:
            return self.db.execute(
                f"INSERT INTO evaluations ({', '.join(COLUMNS[1:])}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (generation, candidate, phenotype, genome, result.status, result.reason, result.fitness,
                 json.dumps(objectives), json.dumps(result.metrics), result.seconds, result.worker,
                 time.time())).lastrowid

    def add_metrics(self, evaluation_id: int, metrics: dict[str, float]) -> None:
        """Metrics learnt after an evaluation (`retrained_fitness`), merged into its own."""
        with self.db:
            row = self.db.execute("SELECT metrics FROM evaluations WHERE id = ?", (evaluation_id,)).fetchone()
            merged = json.loads(row[0] or "{}") | metrics
            self.db.execute("UPDATE evaluations SET metrics = ? WHERE id = ?", (json.dumps(merged), evaluation_id))

    def evaluations(self, *, ok_only: bool = False) -> list[Evaluation]:
        """The search's evaluations (retired ones left out), in the order they finished."""
        where = " AND status = 'ok' AND fitness IS NOT NULL" if ok_only else ""
        return [_evaluation(r) for r in self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM evaluations WHERE{self._current}{where} ORDER BY id")]

    def retire(self, ids) -> None:
        """Take evaluations out of the search (they stay in the file)."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO retired VALUES (?)", [(i,) for i in ids])

    def latest(self, *, retry_failed: bool = False) -> dict[str, Evaluation]:
        """The result a search reuses for each phenotype: its first evaluation,
        or, with `retry_failed`, its latest, failures left out (so they run again)."""
        out: dict[str, Evaluation] = {}
        for e in self.evaluations():
            if retry_failed:
                if e.status == "failed":
                    out.pop(e.phenotype, None)
                else:
                    out[e.phenotype] = e
            else:
                out.setdefault(e.phenotype, e)
        return out

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute(
            f"SELECT status, COUNT(*) FROM evaluations WHERE{self._current} GROUP BY status").fetchall())

    def timing(self) -> tuple[float | None, float | None]:
        """Mean seconds per evaluation and when the last one finished."""
        return self.db.execute(f"SELECT AVG(seconds), MAX(created) FROM evaluations WHERE{self._current}").fetchone()

    def failure_reasons(self) -> list[str]:
        return [r or "unknown" for (r,) in self.db.execute(
            f"SELECT reason FROM evaluations WHERE{self._current} AND status != 'ok'")]

    # populations
    def save_population(self, generation: int, members: list[tuple[str, str, int]]) -> None:
        """Store a generation's population and mark the generation complete, atomically."""
        with self.db:
            self.db.execute("DELETE FROM population WHERE generation = ?", (generation,))
            self.db.executemany("INSERT INTO population VALUES (?,?,?,?,?)",
                                [(generation, i, g, ph, age) for i, (g, ph, age) in enumerate(members)])
            self.db.execute("INSERT OR REPLACE INTO generations VALUES (?, ?)", (generation, time.time()))

    def last_generation(self) -> int | None:
        row = self.db.execute("SELECT MAX(generation) FROM generations").fetchone()
        return row[0]

    def generations_done(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def population(self, generation: int) -> list[tuple[str, str, int]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT genome, phenotype, age FROM population WHERE generation = ? ORDER BY slot", (generation,))]

    def populations(self) -> list[tuple[int, int, str, str, int]]:
        """(generation, slot, genome, phenotype, age) of every stored population."""
        return [tuple(r) for r in self.db.execute(
            "SELECT generation, slot, genome, phenotype, age FROM population ORDER BY generation, slot")]


class Trainings:
    """`genelang compare`'s store (OUT/compare.sqlite): one row per finished
    training, keyed by (phenotype, seed, schedule), so a comparison run again
    trains only what it has not."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS runs (phenotype TEXT, seed INTEGER, schedule TEXT,"
                        " label TEXT, genome TEXT, status TEXT, reason TEXT, value REAL, params INTEGER,"
                        " seconds REAL, created REAL, PRIMARY KEY (phenotype, seed, schedule))")
        self.db.commit()

    def get(self, phen: str, seed: int, schedule: str):
        """(status, value, params) of a stored training, or None."""
        return self.db.execute("SELECT status, value, params FROM runs WHERE phenotype=? AND seed=? AND schedule=?",
                               (phen, seed, schedule)).fetchone()

    def put(self, phen: str, seed: int, schedule: str, label: str, genome: str, result: EvalResult) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (phen, seed, schedule, label, genome, result.status, result.reason,
                             result.fitness, result.metrics.get("params"), result.seconds, time.time()))
