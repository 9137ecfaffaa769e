"""What a finished (or resumed) search leaves in its run directory: best.gene,
pareto/*.gene, history.csv and plots."""
from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

from genelang.evolve.selection import non_dominated_fronts


def write_outputs(search) -> dict[str, Path]:
    d: Path = search.run_dir
    rows = search.store.evaluations()
    out: dict[str, Path] = {}
    out["history"] = d / "history.csv"
    with open(out["history"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "generation", "candidate", "phenotype", "status", "reason", "fitness",
                    "params", "seconds", "worker"])
        for r in rows:
            metrics = json.loads(r["metrics"] or "{}")
            w.writerow([r["id"], r["generation"], r["candidate"], r["phenotype"], r["status"],
                        r["reason"] or "", r["fitness"], metrics.get("params"), r["seconds"], r["worker"]])
    ok = [r for r in rows if r["status"] == "ok" and r["fitness"] is not None]
    if ok:
        objs = [tuple(json.loads(r["objectives"])) for r in ok]
        best = max(range(len(ok)), key=lambda i: (objs[i], -i))
        out["best"] = d / "best.gene"
        _write_gene(out["best"], ok[best]["genome"],
                    f"# best of run {search.spec.run.name}: fitness {ok[best]['fitness']:.6g}\n")
        pareto = d / "pareto"
        pareto.mkdir(exist_ok=True)
        for old in pareto.glob("*.gene"):
            old.unlink()
        seen = set()
        for rank, i in enumerate(sorted(non_dominated_fronts(objs)[0], key=lambda i: objs[i], reverse=True)):
            if ok[i]["phenotype"] in seen:
                continue
            seen.add(ok[i]["phenotype"])
            _write_gene(pareto / f"{rank:03d}.gene", ok[i]["genome"],
                        f"# Pareto front of run {search.spec.run.name}: objectives "
                        f"{dict(zip(search.spec.fitness.objectives, objs[i]))}\n")
        out["pareto"] = pareto
    out.update(_plots(d, rows, search.spec))
    return out


def _write_gene(path: Path, text: str, header: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(header + text)
    tmp.replace(path)


def _plots(d: Path, rows: list[dict], spec) -> dict[str, Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gens: dict[int, list[float]] = {}
    for r in rows:
        if r["status"] == "ok" and r["fitness"] is not None:
            gens.setdefault(r["generation"], []).append(r["fitness"])
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
    fig.savefig(out["fitness_plot"], dpi=100)
    plt.close(fig)
    pts = [(json.loads(r["metrics"] or "{}").get("params"), r["fitness"]) for r in rows
           if r["status"] == "ok" and r["fitness"] is not None]
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
        fig.savefig(out["pareto_plot"], dpi=100)
        plt.close(fig)
    return out
