"""What a finished (or resumed) search leaves in its run directory: best.gene,
pareto/*.gene, history.csv (every evaluation, with its genome text) and plots."""
from __future__ import annotations

import csv
import io
import math
import statistics
from pathlib import Path

from genelang.atomic import atomic_write
from genelang.evolve.run import best as best_of
from genelang.evolve.strategies.selection import non_dominated_fronts
from genelang.evolve.run.store import Evaluation

HISTORY_COLUMNS = ["id", "generation", "candidate", "phenotype", "status", "reason", "fitness",
                   "params", "macs", "seconds", "worker", "genome"]


def history_csv(rows: list[Evaluation]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HISTORY_COLUMNS)
    for r in rows:
        w.writerow([r.id, r.generation, r.candidate, r.phenotype, r.status, r.reason or "", r.fitness,
                    r.metrics.get("params"), r.metrics.get("macs"), r.seconds, r.worker, r.genome])
    return buf.getvalue()


def best_retrained(rows: list[Evaluation]) -> Evaluation | None:
    """The pick of a two-stage search: of the candidates `fitness.retrain_top`
    trained again, the one whose retrained fitness is highest."""
    done = [e for e in rows if e.metrics.get("retrained_fitness") is not None]
    return max(done, key=lambda e: e.metrics["retrained_fitness"], default=None)


def write_outputs(run_dir: Path, spec, rows: list[Evaluation]) -> dict[str, Path]:
    d: Path = run_dir
    name, objectives = spec.run.name, spec.fitness.objectives
    out: dict[str, Path] = {"history": atomic_write(d / "history.csv", history_csv(rows))}
    top = best_of.best(rows)
    if top is not None:
        out["best"] = atomic_write(d / "best.gene", f"# best of run {name}: fitness {top.fitness:.6g}\n" + top.genome)
        pareto = d / "pareto"
        pareto.mkdir(exist_ok=True)
        for old in pareto.glob("*.gene"):
            old.unlink()
        for rank, e in enumerate(best_of.pareto(rows)):
            atomic_write(pareto / f"{rank:03d}.gene", f"# Pareto front of run {name}: objectives "
                         f"{dict(zip(objectives, e.objectives or ()))}\n" + e.genome)
        out["pareto"] = pareto
    picked = best_retrained(rows)
    if picked is not None:
        out["best_retrained"] = atomic_write(
            d / "best_retrained.gene", f"# best of run {name} once retrained from scratch (fitness.retrain_top): "
            f"retrained fitness {picked.metrics['retrained_fitness']:.6g}, search fitness {picked.fitness:.6g}\n"
            + picked.genome)
    out.update(_plots(d, rows, spec))
    return out


def _plots(d: Path, rows: list[Evaluation], spec) -> dict[str, Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gens: dict[int, list[float]] = {}
    for r in rows:
        if r.ok:
            gens.setdefault(r.generation, []).append(r.fitness)
    if not gens:
        return {}
    xs = sorted(gens)
    best_so_far, running = [], -math.inf
    for g in xs:
        running = max(running, max(gens[g]))
        best_so_far.append(running)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, best_so_far, marker="o", label="best so far")
    ax.plot(xs, [statistics.median(gens[g]) for g in xs], marker=".", label="median of generation")
    ax.set_xlabel("generation")
    ax.set_ylabel(f"fitness ({spec.fitness.estimator})")
    ax.legend()
    fig.tight_layout()
    out = {"fitness_plot": d / "fitness.png"}
    atomic_write(out["fitness_plot"], lambda p: fig.savefig(p, dpi=100))
    plt.close(fig)
    pts = [(r.metrics.get("params"), r.fitness) for r in rows if r.ok]
    pts = [p for p in pts if p[0] is not None]
    if pts:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12, alpha=0.6, label="evaluated")
        front = non_dominated_fronts([(f, -p) for p, f in pts])[0]
        fp = sorted((pts[i] for i in front))
        ax.plot([p[0] for p in fp], [p[1] for p in fp], color="C3", marker="o", label="Pareto front")
        ax.set_xlabel("parameters")
        ax.set_ylabel("fitness")
        ax.legend()
        fig.tight_layout()
        out["pareto_plot"] = d / "pareto.png"
        atomic_write(out["pareto_plot"], lambda p: fig.savefig(p, dpi=100))
        plt.close(fig)
    return out
