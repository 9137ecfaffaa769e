"""Search strategies against NAS-Bench-201's ground truth, many seeds each:
the incumbent's mean validation accuracy (the cell of highest drawn-seed
reward so far) after 50/100/150/300 queries, mean ± std over seeds, and
one-sided Mann–Whitney p-values of GEP variants against regularized evolution.

Run: .venv/bin/python bench/bench_nb201_strategies.py [--seeds 200] [--dataset cifar10] [--only NAME ...]
     [--first-seed 0]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from genelang.evolve.spec.schema import parse_spec
from genelang.runtime.nb201_table import NB201Table
from genelang.study.tabular_lab import compare_strategies, p_value

BUDGETS = (50, 100, 150, 300)


def spec(strategy: dict, dataset: str):
    return parse_spec({"space": {"space": "nb201"}, "strategy": {"generations": 1000, **strategy},
                       "fitness": {"estimator": "tabular", "options": {"dataset": dataset}}})


# GEP's settings were chosen on CIFAR-10 only, on seeds 1000.. (bench/tune_nb201_gep.py):
# every setting tried lay within ±0.04 of the others at 150 queries, so "tuned" is the
# best of a flat landscape (population 10, mutation 0.2, elitism 2, tournament 3).
TUNED = {"name": "gep", "population": 10, "elitism": 2, "tournament": 3,
         "operators": {"mutation": 0.2, "one_point": 0.3, "two_point": 0.3, "gene_recombination": 0.1}}
STRATEGIES = {
    "random": {"name": "random", "population": 20},
    "regularized-evolution": {"name": "regularized-evolution", "population": 20, "sample_size": 5},
    "gep-default": {"name": "gep", "population": 20},
    "gep-tuned": TUNED,
    **{f"predictor-gep-{m}": {**TUNED, "name": "predictor-gep", "options": {"predictor": m, "screen": 10}}
       for m in ("ridge", "gbm", "forest", "mlp")},
    # the predictor on a larger, more elitist population (tuned for it on seeds 1000..)
    **{f"predictor-gep-{m}-pop20": {"name": "predictor-gep", "population": 20, "elitism": 4, "tournament": 5,
                                    "operators": {"mutation": 0.15, "inversion": 0, "is_transposition": 0,
                                                  "ris_transposition": 0, "gene_transposition": 0},
                                    "options": {"predictor": m, "screen": 10}}
       for m in ("gbm", "forest")},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--dataset", default="cifar10")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--first-seed", type=int, default=0, help="Tuning runs use 1000 and up; reports use 0.")
    args = ap.parse_args()
    table = NB201Table()
    names = args.only or list(STRATEGIES)
    specs = {n: spec(STRATEGIES[n], args.dataset) for n in names}
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results = compare_strategies(specs, seeds, BUDGETS, table, args.dataset)
    print(f"NAS-Bench-201 {args.dataset}, seeds {seeds.start}..{seeds.stop - 1} for each strategy, "
          f"{time.perf_counter() - t0:.0f} s in all; incumbent's mean val acc (%) after N queries")
    print(f"{'strategy':>24} " + " ".join(f"{b:>15}" for b in BUDGETS))
    for r in results:
        print(f"{r.name:>24} " + " ".join(f"{r.at(b).mean():7.2f} ± {r.at(b).std():5.2f}" for b in BUDGETS))
    ref = next((r for r in results if r.name == "regularized-evolution"), None)
    if ref is not None:
        for r in results:
            if r is not ref:
                print(f"p({r.name} > regularized-evolution) " +
                      " ".join(f"@{b}: {p_value(r.at(b), ref.at(b)):.3g}" for b in BUDGETS))
    for r in results:
        rhos = [rho for run in r.runs for _, rho in run.held_out]
        if rhos:
            print(f"{r.name}: held-out Spearman ρ of the predictor per generation, mean {np.mean(rhos):.3f} "
                  f"over {len(rhos)} generations")
        sim = np.mean([run.simulated_seconds for run in r.runs]) / 3600
        print(f"{r.name}: {np.mean([run.queries for run in r.runs]):.0f} queries, "
              f"{sim:.1f} simulated GPU-hours of training per search")


if __name__ == "__main__":
    main()
