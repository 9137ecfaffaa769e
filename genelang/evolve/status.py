"""A run directory's state, read from its results database (reads only, so it
is safe while the search runs: `genelang status RUN_DIR --watch`)."""
from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from genelang.errors import SpecError
from genelang.evolve.runlock import holder


@dataclass
class RunStatus:
    run_dir: str
    name: str
    running_pid: int | None
    generations_done: int
    generations: int | None
    evaluations: int
    ok: int
    failed: int
    infeasible: int
    seconds_per_evaluation: float | None
    last_evaluation_ago: float | None
    best: dict | None
    top: list[dict] = field(default_factory=list)
    failure_reasons: list[tuple[str, int]] = field(default_factory=list)


def _connect(db: Path) -> sqlite3.Connection:
    # Only reads, so no lock the search could wait for. Not `mode=ro`: a
    # read-only connection to a WAL database leaves -wal/-shm files behind,
    # while this one, closed last, cleans them up like the search does.
    return sqlite3.connect(str(db), timeout=10)


def run_status(run_dir: Path, top: int = 5) -> RunStatus:
    db_path = run_dir / "results.sqlite"
    if not db_path.exists():
        raise SpecError.at("io", "not a run directory (no results.sqlite)", str(run_dir),
                           hint="give the directory a search writes to (run.out, or runs/<run.name>)")
    db = _connect(db_path)
    try:
        spec_text = (db.execute("SELECT value FROM meta WHERE key = 'spec'").fetchone() or [None])[0]
        spec = yaml.safe_load(spec_text) if spec_text else {}
        done = db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
        counts = dict(db.execute("SELECT status, COUNT(*) FROM evaluations GROUP BY status").fetchall())
        secs, last = db.execute("SELECT AVG(seconds), MAX(created) FROM evaluations").fetchone()
        rows = db.execute("SELECT generation, phenotype, genome, fitness, metrics FROM evaluations"
                          " WHERE status = 'ok' AND fitness IS NOT NULL ORDER BY fitness DESC, id").fetchall()
        reasons = [r[0] for r in db.execute("SELECT reason FROM evaluations WHERE status != 'ok'")]
    except sqlite3.DatabaseError as err:
        raise SpecError.at("io", f"cannot read results.sqlite ({err})", str(db_path)) from None
    finally:
        db.close()
    best_rows, seen = [], set()
    for g, ph, genome, fit, metrics in rows:
        if ph in seen:
            continue
        seen.add(ph)
        best_rows.append({"fitness": fit, "generation": g, "phenotype": ph,
                          "params": json.loads(metrics or "{}").get("params"), "genome": genome})
        if len(best_rows) == top:
            break
    # failures grouped by the first line of their reason
    grouped = Counter((r or "unknown").splitlines()[0][:120] for r in reasons)
    return RunStatus(
        run_dir=str(run_dir), name=(spec.get("run") or {}).get("name", run_dir.name),
        running_pid=holder(run_dir), generations_done=done,
        generations=(spec.get("strategy") or {}).get("generations"),
        evaluations=sum(counts.values()), ok=counts.get("ok", 0), failed=counts.get("failed", 0),
        infeasible=counts.get("infeasible", 0), seconds_per_evaluation=secs,
        last_evaluation_ago=None if last is None else max(0.0, time.time() - last),
        best=best_rows[0] if best_rows else None, top=best_rows, failure_reasons=grouped.most_common(5))
