"""Latency-aware against MACs-aware Pareto search at a tiny budget.

Two searches with the same seed, space, task and budget, differing only in
their second objective: `[fitness, -latency]` (the latency table's
prediction) and `[fitness, -macs]`. Afterwards every candidate either search
evaluated is timed end to end (the same timer and settings as the table:
batch 1, one thread, the CPU clock), and each search's front is taken in
(fitness, measured latency). Printed: both fronts, and for each front point
of one search the fastest measured network of the other search at equal or
better fitness. A figure: bench/data/latency_pareto.png.

    python bench/bench_latency_pareto.py --population 6 --generations 3 --subset 2000 --epochs 2
    (proxyless at C=8 needs about that to leave chance: 1 epoch of 1,000 images scored 0.10-0.12)
    python bench/bench_latency_pareto.py --estimator naswot   # seconds per candidate instead of minutes
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import torch

from genelang.compiler import load_text
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from genelang.evolve.strategies.selection import non_dominated_fronts
from genelang.runtime.build import space_network
from genelang.runtime.latency.predict import predictor
from genelang.runtime.latency.timer import time_ms

HERE = Path(__file__).parent


def spec(args, out: Path, cost: str, table: str):
    return parse_spec({
        "run": {"name": f"pareto{cost}", "seed": args.seed, "out": str(out / cost.lstrip("-"))},
        "task": {"name": "fashion-mnist", "subset": args.subset, "batch_size": 64},
        "space": {"space": args.space}, "model": {"skeleton": "mnist", "C": args.C},
        "strategy": {"name": "gep", "population": args.population, "generations": args.generations},
        "fitness": {"estimator": args.estimator, "epochs": args.epochs, "lr": args.lr, "objectives": ["fitness", cost],
                    "latency": {"table": table, "clock": "cpu", "threads": 1, "batch": 1, "repeats": 21}},
        "execution": {"workers": 0}})


def candidates(run_dir: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(run_dir / "results.sqlite") as db:
        rows = db.execute("SELECT genome, fitness FROM evaluations WHERE status = 'ok'").fetchall()
    return list(dict(rows).items())   # one row per genome text


def front(points: list[dict]) -> list[dict]:
    best = non_dominated_fronts([(p["fitness"], -p["measured_ms"]) for p in points])[0]
    return sorted((points[i] for i in best), key=lambda p: p["measured_ms"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--space", default="proxyless")
    ap.add_argument("--C", type=int, default=8)
    ap.add_argument("--population", type=int, default=8)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--subset", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--estimator", default="train", help="train (1 epoch), or a zero-cost proxy such as naswot")
    ap.add_argument("--out", default=str(HERE / "data" / "latency_pareto.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    result: dict = {"args": vars(args), "load_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as d:
        table = f"{d}/latency.json"
        points: dict[str, list[dict]] = {}
        for cost in ("-latency", "-macs"):
            s = spec(args, Path(d), cost, table)
            t0 = time.time()
            run = run_search(s)
            result[f"search_s{cost}"] = round(time.time() - t0)
            lat = predictor(s.fitness.latency, args.space, *s.configs())
            task, model = s.configs()
            points[cost] = []
            for text, fitness in candidates(run.run_dir):
                genome = load_text(text, "<candidate>").genomes[0]
                net = space_network(genome, model, num_classes=10, input_shape=(1, 28, 28))
                points[cost].append({"fitness": fitness, "predicted_ms": round(lat.latency(genome), 3),
                                     "measured_ms": round(time_ms(net, (1, 28, 28), s.fitness.latency), 3)})
    result["load_end"] = os.getloadavg()[0]
    for cost, pts in points.items():
        result[cost] = {"candidates": len(pts), "front": front(pts)}
        print(f"{cost}: {len(pts)} candidates; front (fitness, measured ms):",
              [(round(p["fitness"], 4), p["measured_ms"]) for p in result[cost]["front"]])
    for a, b in (("-latency", "-macs"), ("-macs", "-latency")):
        # for each front point of a: the fastest network b found at equal or better fitness
        pairs = []
        for p in result[a]["front"]:
            rivals = [q["measured_ms"] for q in points[b] if q["fitness"] >= p["fitness"]]
            pairs.append((round(p["fitness"], 4), p["measured_ms"], min(rivals) if rivals else None))
        result[f"{a}_vs_{b}"] = pairs
        print(f"{a} front vs {b} (fitness, ms of {a}, fastest {b} at >= fitness):", pairs)
    Path(args.out).write_text(json.dumps(result, indent=1))
    plot(result, Path(args.out).with_suffix(".png"))


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for cost, marker in (("-latency", "o"), ("-macs", "s")):
        f = result[cost]["front"]
        ax.step([p["measured_ms"] for p in f], [p["fitness"] for p in f], where="post", marker=marker,
                label=f"objectives [fitness, {cost}]")
    ax.set_xlabel("measured latency, ms (batch 1, 1 thread, CPU clock)")
    ax.set_ylabel(f"fitness ({result['args']['estimator']})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
