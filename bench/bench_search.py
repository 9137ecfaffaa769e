"""Search quality at an equal evaluation budget: gep vs random vs
regularized-evolution over the same space and estimator, several seeds; best
validation accuracy found (mean ± std over seeds).

Run: .venv/bin/python bench/bench_search.py [--seeds 3] [--generations 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--population", type=int, default=6)
    ap.add_argument("--subset", type=int, default=4000)
    args = ap.parse_args()
    base = yaml.safe_load((ROOT / "examples" / "specs" / "quick.yaml").read_text())
    base["task"]["subset"] = args.subset
    base["model"]["C"] = 8
    base["strategy"].update(population=args.population, generations=args.generations)
    out = Path(tempfile.mkdtemp(prefix="bench_search_"))
    print(f"budget: population {args.population} × {args.generations} generations; train = 1 epoch on "
          f"{args.subset} Fashion-MNIST images, C=8; {args.seeds} seeds")
    for strategy in ("gep", "random", "regularized-evolution"):
        best, evals, t0 = [], [], time.perf_counter()
        for seed in range(args.seeds):
            spec = dict(base, run={"name": f"{strategy}-{seed}", "seed": seed, "out": str(out / f"{strategy}-{seed}")},
                        strategy=dict(base["strategy"], name=strategy))
            res = run_search(parse_spec(spec))
            best.append(res.best_fitness or 0.0)
            evals.append(res.evaluations)
        print(f"{strategy:>22}: best val acc {statistics.mean(best):.4f} ± {statistics.stdev(best):.4f} "
              f"(per seed {', '.join(f'{b:.3f}' for b in best)}; {statistics.mean(evals):.0f} distinct "
              f"evaluations; {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
