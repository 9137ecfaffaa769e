"""Tuning GEP on NAS-Bench-201 CIFAR-10 only (the issue's rule), on seeds
1000.. so that the final comparison (bench_nb201_strategies.py, seeds 0..)
does not reuse the seeds the settings were chosen on. Prints the incumbent's
mean accuracy after 150 and 300 queries per setting.

Run: .venv/bin/python bench/tune_nb201_gep.py [--seeds 100]
"""
from __future__ import annotations

import argparse
import itertools

from bench_nb201_strategies import spec
from genelang.runtime.nb201_table import NB201Table
from genelang.study.tabular_lab import compare_strategies

NO_TRANSPOSITION = {"inversion": 0, "is_transposition": 0, "ris_transposition": 0, "gene_transposition": 0}


def grid():
    yield "default", {}
    for pop, mut, tour, transp in itertools.product((10, 20), (0.1, 0.2), (3, 5), (True, False)):
        elit, xo = 2, 0.3
        ops = {"mutation": mut, "one_point": xo, "two_point": xo, "gene_recombination": 0.1 if xo else 0}
        if not transp:
            ops.update(NO_TRANSPOSITION)
        name = f"pop{pop} mut{mut} elit{elit} tour{tour} {'transp' if transp else 'no-transp'}"
        yield name, {"population": pop, "elitism": elit, "tournament": tour, "operators": ops}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    args = ap.parse_args()
    table = NB201Table()
    rows = []
    for name, kw in grid():
        r = compare_strategies({name: spec({"name": "gep", "population": 20, **kw}, "cifar10")},
                               range(1000, 1000 + args.seeds), (150, 300), table)[0]
        rows.append((r.at(150).mean(), r.at(300).mean(), name))
        print(f"{name:>48}: {rows[-1][0]:.3f} @150  {rows[-1][1]:.3f} @300", flush=True)
    print("best five at 150 queries:")
    for m150, m300, name in sorted(rows, reverse=True)[:5]:
        print(f"{name:>48}: {m150:.3f} @150  {m300:.3f} @300")


if __name__ == "__main__":
    main()
