"""NASGEP weight inheritance: the quick search (examples/specs/quick.yaml)
with and without `fitness.inherit_weights`, same seeds and budget, in one run.
Prints per run the best validation accuracy found and the mean accuracy of
the candidates trained after generation 0 (those that can inherit), then the
ratio of the means with / without.

Run: .venv/bin/python bench/bench_inherit.py [--seeds 2] [--first-seed 0] [--generations 6]
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec

ROOT = Path(__file__).resolve().parents[1]


def later_candidates(run_dir: Path) -> tuple[list[float], list[int]]:
    rows = sqlite3.connect(run_dir / "results.sqlite").execute(
        "SELECT fitness, metrics FROM evaluations WHERE generation > 0 AND status = 'ok'")
    fits, inherited = [], []
    for fit, metrics in rows:
        fits.append(fit)
        inherited.append(json.loads(metrics).get("inherited_blocks", 0))
    return fits, inherited


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--generations", type=int, default=6)
    args = ap.parse_args()
    base = yaml.safe_load((ROOT / "examples" / "specs" / "quick.yaml").read_text())
    base["strategy"]["generations"] = args.generations
    out = Path(tempfile.mkdtemp(prefix="bench_inherit_"))
    means = {False: [], True: []}
    print("seed  inherit  best    mean(gen>0)  n   blocks inherited/candidate  seconds")
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for inherit in (False, True):
            name = f"s{seed}-{'inherit' if inherit else 'scratch'}"
            spec = dict(base, run={"name": name, "seed": seed, "out": str(out / name)},
                        fitness=dict(base["fitness"], inherit_weights=inherit))
            t0 = time.perf_counter()
            r = run_search(parse_spec(spec))
            fits, inh = later_candidates(r.run_dir)
            means[inherit] += fits
            print(f"{seed:4d}  {str(inherit):7s}  {r.best_fitness:.3f}  {statistics.mean(fits):.3f}"
                  f"        {len(fits):3d} {statistics.mean(inh):6.2f}"
                  f"                      {time.perf_counter() - t0:6.0f}", flush=True)
    a, b = statistics.mean(means[True]), statistics.mean(means[False])
    print(f"mean val acc of candidates after generation 0: inherit {a:.3f}, scratch {b:.3f}, "
          f"ratio {a / b:.3f}")


if __name__ == "__main__":
    main()
