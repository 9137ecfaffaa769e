"""`run_page_data(RUN_DIR)`: everything the run page shows, read in one pass
over results.sqlite through a read-only connection (safe beside a running
search, which it never locks) and the supernet's curve log."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import yaml

from genelang.errors import SpecError
from genelang.evolve.run import best as best_of
from genelang.evolve.run.runlock import holder
from genelang.evolve.run.status import open_run
from genelang.evolve.run.store import Evaluation
from genelang.report.cell import draw_best
from genelang.report.model import FailureGroup, GenerationPoint, Progress, Row, RunPage
from genelang.runtime.supernet_curve import read_curve

RECENT = 300.0      # seconds of the "recent" throughput window


def run_page_data(run_dir: str | Path, *, after: int | None = None) -> RunPage:
    """The run page's data for a run directory, finished or running (a
    `SpecError`, located, if it is not one). `after`: list only the
    evaluations with a larger id (the rest is the whole run's all the same)."""
    run_dir = Path(run_dir)
    try:
        with open_run(run_dir, readonly=True) as store:
            text = store.get_meta("spec")
            rows = store.evaluations()
            done = store.generations_done()
    except sqlite3.DatabaseError as err:
        raise SpecError.at("io", f"cannot read results.sqlite ({err})", str(run_dir / "results.sqlite")) from None
    spec = (yaml.safe_load(text) if text else None) or {}
    section = lambda name: spec.get(name) or {}
    top = best_of.best(rows)
    return RunPage(
        name=section("run").get("name", run_dir.name), run_dir=str(run_dir),
        strategy=section("strategy").get("name"), estimator=section("fitness").get("estimator"),
        objectives=list(section("fitness").get("objectives") or ["fitness"]),
        progress=_progress(run_dir, rows, done, section("strategy").get("generations")),
        generations=_generations(rows), evaluations=[_row(e) for e in rows if after is None or e.id > after],
        best=top.id if top else None, pareto=[e.id for e in best_of.pareto(rows)],
        best_cell=draw_best(top) if top else None,
        supernet_curve=read_curve(run_dir / "supernet"), failures=_failures(rows), files=_outputs(run_dir),
        generated=time.time(), after=after)


def _outputs(run_dir: Path) -> list[str]:
    """What a search leaves for people (best.gene, history.csv, plots, pareto/*.gene), not its machinery."""
    found = [p for p in (*run_dir.glob("*"), *run_dir.glob("pareto/*.gene"))
             if p.is_file() and not p.name.startswith(".") and not p.name.startswith("results.sqlite")]
    return sorted(str(p.relative_to(run_dir)) for p in found)


def _row(e: Evaluation) -> Row:
    return Row(e.id, e.generation, e.candidate, e.phenotype, e.genome, e.status, e.reason, e.fitness,
               e.objectives, e.metrics.get("params"), e.metrics.get("macs"), e.seconds, e.created)


def _progress(run_dir: Path, rows: list[Evaluation], done: int, generations: int | None) -> Progress:
    count = lambda status: sum(e.status == status for e in rows)
    times = [e.created for e in rows]
    secs = [e.seconds for e in rows if e.seconds is not None]
    first, last = (min(times), max(times)) if times else (None, None)
    # per minute over the span between the first and the last: one evaluation has no rate
    per_minute = 60 * (len(times) - 1) / (last - first) if times and last > first else None
    recent = [t for t in times if t >= last - RECENT] if times else []
    recent_rate = (60 * (len(recent) - 1) / (max(recent) - min(recent))
                   if len(recent) > 1 and max(recent) > min(recent) else None)
    return Progress(holder(run_dir), done, generations, len(rows), count("ok"), count("failed"),
                    count("infeasible"), first, last, sum(secs) / len(secs) if secs else None,
                    per_minute, recent_rate)


def _generations(rows: list[Evaluation]) -> list[GenerationPoint]:
    by_generation: dict[int, list[Evaluation]] = {}
    for e in rows:
        by_generation.setdefault(e.generation, []).append(e)
    points, so_far = [], None
    for g, mine in sorted(by_generation.items()):
        fits = [e.fitness for e in mine if e.ok]
        best = max(fits) if fits else None
        so_far = best if so_far is None else max(so_far, best) if best is not None else so_far
        points.append(GenerationPoint(g, len(mine), best, so_far))
    return points


def _failures(rows: list[Evaluation]) -> list[FailureGroup]:
    """Failed and infeasible evaluations grouped by the first line of their reason, largest group first."""
    groups: dict[tuple[str, str], list[int]] = {}
    for e in rows:
        if e.status != "ok":
            key = ((e.reason or "unknown").splitlines()[0][:200], e.status)
            groups.setdefault(key, []).append(e.id)
    return [FailureGroup(reason, status, ids)
            for (reason, status), ids in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
