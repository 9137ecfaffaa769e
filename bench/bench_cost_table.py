"""Pricing genomes with the cost table against building them: the time to get
parameters and multiply-adds of the same random genomes of fmnist_full.yaml's
space (separate pools, cells of head 4, C=16, N=2, 1×28×28 input), by table
sums and by building each network (counting its parameters, as a search did
before the table, and running runtime/summary for the multiply-adds). The
numbers are checked equal on every genome.

Run: .venv/bin/python bench/bench_cost_table.py [--genomes 1000]
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

from genelang.evolve.spec.schema import load_spec
from genelang.compiler.template import Template
from genelang.runtime.cost_table import cost_table
from genelang.runtime.networks import build_network
from genelang.runtime.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
SHAPE, CLASSES = (1, 28, 28), 10


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genomes", type=int, default=1000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = load_spec(ROOT / "examples" / "specs" / "fmnist_full.yaml")
    _, model = spec.configs()
    t = Template.from_spec(spec.space)
    rng = random.Random(0)
    genomes = [t.genome(t.random(rng)) for _ in range(args.genomes)]

    t0 = time.perf_counter()
    functions = tuple(sorted({f for s in t.slots for f in s.functions}))
    table = cost_table(model, num_classes=CLASSES, input_shape=SHAPE, functions=functions,
                       max_operands=t.max_operands())
    t1 = time.perf_counter()
    priced = [table.cost(g) for g in genomes]
    t2 = time.perf_counter()
    params_s = macs_s = 0.0
    example = torch.zeros(1, *SHAPE)
    for g, c in zip(genomes, priced):
        a = time.perf_counter()
        net = build_network(g, model.skeleton, C=model.C, N=model.N, num_classes=CLASSES, in_channels=SHAPE[0])
        params = sum(p.numel() for p in net.parameters())
        b = time.perf_counter()
        macs = summarize(net, example)[-1].macs
        params_s += b - a
        macs_s += time.perf_counter() - a
        assert (params, macs) == (c.params, c.macs), (params, macs, c)

    n = len(genomes)
    print(f"{n} random genomes of fmnist_full.yaml's space; table and builds agree on all of them")
    print(f"table build (once per spec):           {t1 - t0:8.2f} s")
    print(f"table sums:                            {t2 - t1:8.2f} s  ({(t2 - t1) / n * 1e6:7.0f} µs / genome)")
    print(f"build + count parameters:              {params_s:8.2f} s  ({params_s / n * 1e3:7.1f} ms / genome)")
    print(f"build + summary (parameters and MACs): {macs_s:8.2f} s  ({macs_s / n * 1e3:7.1f} ms / genome)")
    print(f"ratio, parameters only:   {params_s / (t2 - t1):7.0f}×")
    print(f"ratio, parameters + MACs: {macs_s / (t2 - t1):7.0f}×  "
          f"({macs_s / (t2 - t1 + t1 - t0):.0f}× counting the table's build)")


if __name__ == "__main__":
    main()
