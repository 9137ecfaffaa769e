"""How well do cheap estimators rank genomes? Spearman correlation of
random-weights, naswot, synflow and parameter count against the `train`
fitness (1 epoch on a Fashion-MNIST subset) over the same random genomes.

Run: .venv/bin/python bench/bench_proxies.py [--genomes 50]
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
from scipy import stats

from genelang.evolve.execution.fitness import evaluate
from genelang.evolve.spec.schema import load_spec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from bench_estimators import genomes, request
    ap = argparse.ArgumentParser()
    ap.add_argument("--genomes", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(2)
    spec = load_spec(ROOT / "examples" / "specs" / "quick.yaml")
    texts = genomes(spec, args.genomes, seed=1)
    scores: dict[str, list[float]] = {k: [] for k in ("train", "random-weights", "naswot", "synflow", "params")}
    t0 = time.perf_counter()
    for i, text in enumerate(texts):
        row = {}
        for est in scores:
            r = evaluate(request(spec, est, text, i))
            row[est] = r.fitness if r.ok else math.nan
        if est == "params":
            row["params"] = -row["params"]   # the estimator is minus the count; correlate the count itself
        for k, v in row.items():
            scores[k].append(v)
    keep = [i for i in range(len(texts)) if all(not math.isnan(scores[k][i]) for k in scores)]
    print(f"{len(keep)} of {len(texts)} random genomes of quick.yaml's space, "
          f"train = 1 epoch on {spec.task.subset} Fashion-MNIST images ({time.perf_counter() - t0:.0f} s)")
    for k in ("random-weights", "naswot", "synflow", "params"):
        rho = stats.spearmanr([scores[k][i] for i in keep], [scores["train"][i] for i in keep]).statistic
        print(f"Spearman ρ({k:>14}, train) = {rho:+.3f}")


if __name__ == "__main__":
    main()
