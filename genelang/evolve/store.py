"""The results database (SQLite, one file per run). Every evaluation is a row
committed as soon as it finishes (WAL mode), so a killed run loses nothing it
finished; populations are stored per generation, so a run resumes from the
last complete one."""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

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
"""


class Store:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # evaluations
    def add_evaluation(self, generation: int, candidate: int, phenotype: str, genome: str,
                       result: dict, objectives: list[float] | None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO evaluations (generation, candidate, phenotype, genome, status, reason,"
                " fitness, objectives, metrics, seconds, worker, created)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (generation, candidate, phenotype, genome, result.get("status", "ok"), result.get("reason"),
                 result.get("fitness"), json.dumps(objectives), json.dumps(result.get("metrics", {})),
                 result.get("seconds"), result.get("worker"), time.time()))

    def cached(self) -> dict[str, dict]:
        """The first stored result of each phenotype."""
        out: dict[str, dict] = {}
        for row in self.db.execute(
                "SELECT phenotype, status, reason, fitness, objectives, metrics, seconds FROM evaluations ORDER BY id"):
            ph = row[0]
            if ph not in out:
                out[ph] = {"status": row[1], "reason": row[2], "fitness": row[3],
                           "objectives": json.loads(row[4]) if row[4] else None,
                           "metrics": json.loads(row[5] or "{}"), "seconds": row[6]}
        return out

    def evaluations(self) -> list[dict]:
        cols = ["id", "generation", "candidate", "phenotype", "genome", "status", "reason", "fitness",
                "objectives", "metrics", "seconds", "worker", "created"]
        rows = self.db.execute(f"SELECT {', '.join(cols)} FROM evaluations ORDER BY id").fetchall()
        return [dict(zip(cols, r)) for r in rows]

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

    def population(self, generation: int) -> list[tuple[str, str, int]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT genome, phenotype, age FROM population WHERE generation = ? ORDER BY slot", (generation,))]
