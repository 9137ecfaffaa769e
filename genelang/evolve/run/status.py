"""A run directory's state, read from its results database (reads only, so it
is safe while the search runs: `genelang status RUN_DIR --watch`)."""
from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from genelang.errors import SpecError
from genelang.evolve.run.best import ranked
from genelang.evolve.run.runlock import holder
from genelang.evolve.run.store import Store
from genelang.evolve.run.throughput import META_KEY as THROUGHPUT, Throughput
from genelang.evolve.strategies.self_search import planned_generations


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
    throughput: Throughput | None = None    # as of the last complete generation


def open_run(run_dir: Path, *, readonly: bool = False) -> Store:
    """A reader of a run directory's results (refused, located, if it is none);
    `readonly`: one SQLite keeps from writing (Store.open_readonly)."""
    db = run_dir / "results.sqlite"
    if not db.exists():
        raise SpecError.at("io", "not a run directory (no results.sqlite)", str(run_dir),
                           hint="give the directory a search writes to (run.out, or runs/<run.name>)")
    try:
        return Store.open_readonly(db) if readonly else Store.open_read(db)
    except sqlite3.DatabaseError as err:
        raise SpecError.at("io", f"cannot read results.sqlite ({err})", str(db)) from None


def run_status(run_dir: str | Path, top: int = 5) -> RunStatus:
    run_dir = Path(run_dir)
    try:
        with open_run(run_dir) as store:
            spec = yaml.safe_load(store.get_meta("spec") or "") or {}
            speed = store.get_meta(THROUGHPUT)
            done, counts = store.generations_done(), store.counts()
            secs, last = store.timing()
            rows, reasons = store.evaluations(ok_only=True), store.failure_reasons()
    except sqlite3.DatabaseError as err:
        raise SpecError.at("io", f"cannot read results.sqlite ({err})", str(run_dir / "results.sqlite")) from None
    best_rows = [{"fitness": e.fitness, "generation": e.generation, "phenotype": e.phenotype,
                  "params": e.metrics.get("params"), "genome": e.genome} for e in ranked(rows)[:top]]
    # failures grouped by the first line of their reason
    grouped = Counter(r.splitlines()[0][:120] if r else "unknown" for r in reasons)
    return RunStatus(
        run_dir=str(run_dir), name=(spec.get("run") or {}).get("name", run_dir.name),
        running_pid=holder(run_dir), generations_done=done,
        generations=planned_generations((spec.get("strategy") or {}).get("name"),
                                        (spec.get("strategy") or {}).get("generations")),
        evaluations=sum(counts.values()), ok=counts.get("ok", 0), failed=counts.get("failed", 0),
        infeasible=counts.get("infeasible", 0), seconds_per_evaluation=secs,
        last_evaluation_ago=None if last is None else max(0.0, time.time() - last),
        best=best_rows[0] if best_rows else None, top=best_rows, failure_reasons=grouped.most_common(5),
        throughput=Throughput.loads(speed) if speed else None)
