"""GEP operator and decode throughput: genelang against geppy (the Python GEP
library on DEAP) on the same population shape and operators, in one run.

geppy is installed only for this benchmark: `.venv/bin/pip install geppy`.
Each offspring undergoes point mutation, IS transposition, RIS
transposition, one-point and two-point recombination, and is decoded.
genelang works a generation at a time, as its `gep` strategy does (the
population as rows of symbol ids, numpy operators, array decoding of every
gene's tree); geppy one individual at a time (its decode extracts the ORF).
A second genelang line adds what a search generation also pays: converting
members to rows and the children back to symbol lists.

Run: .venv/bin/python bench/bench_operators.py [--n 20000]
"""
from __future__ import annotations

import argparse
import operator
import random
import statistics
import time

import numpy as np

from genelang.evolve.genome import operators as ops
from genelang.evolve.genome.codec import Codec
from genelang.evolve.spec.schema import Operators, SpaceSpec
from genelang.compiler.template import Template

HEAD, GENES, POP = 6, 4, 100
RATES = Operators(mutation=0.044, is_transposition=1, ris_transposition=1, one_point=1, two_point=1,
                  inversion=0, gene_transposition=0, gene_recombination=0)


def bench_genelang(n: int, convert: bool = False) -> float:
    t = Template.from_spec(SpaceSpec(space="conv", adfs=GENES - 2, adf_head=HEAD, main_head=HEAD))
    c = Codec.of(t)
    rng = random.Random(0)
    members = [t.random_symbols(rng) for _ in range(POP)]
    X = c.encode(members)
    nrng = np.random.default_rng(0)
    made = 0
    start = time.perf_counter()
    while made < n:
        if convert:
            X = c.encode(members)
        pick = nrng.integers(POP, size=POP)      # POP/2 pairs of parents
        A, B = ops.reproduce(X[pick[: POP // 2]], X[pick[POP // 2:]], c, RATES, nrng)
        X = np.concatenate([A, B])
        ops.decode(X, c)
        if convert:
            members = c.decode(X)
        made += POP
    return made / (time.perf_counter() - start)


def _stub_pkg_resources() -> None:
    """geppy imports pkg_resources only for its own version string; recent
    setuptools no longer ships it."""
    import sys
    import types
    if "pkg_resources" in sys.modules:
        return
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        mod = types.ModuleType("pkg_resources")

        class DistributionNotFound(Exception):
            pass

        def get_distribution(name):
            raise DistributionNotFound(name)

        mod.DistributionNotFound, mod.get_distribution = DistributionNotFound, get_distribution
        sys.modules["pkg_resources"] = mod


def bench_geppy(n: int) -> float | None:
    _stub_pkg_resources()
    try:
        import geppy as gep
        from deap import base, creator, tools
    except ImportError:
        return None
    pset = gep.PrimitiveSet("main", input_names=["h1", "h2"])
    pset.add_function(operator.add, 2)
    pset.add_function(operator.mul, 2)
    for name in ("sep", "dw", "pw"):
        pset.add_function(lambda x: x, 1, name=name)
    if not hasattr(creator, "FitnessMax"):
        creator.create("FitnessMax", base.Fitness, weights=(1,))
        creator.create("Individual", gep.Chromosome, fitness=creator.FitnessMax)
    tb = gep.Toolbox()
    tb.register("gene_gen", gep.Gene, pset=pset, head_length=HEAD)
    tb.register("individual", creator.Individual, gene_gen=tb.gene_gen, n_genes=GENES, linker=operator.add)
    tb.register("population", tools.initRepeat, list, tb.individual)
    random.seed(0)
    pop = tb.population(n=POP)
    start = time.perf_counter()
    for k in range(n):
        a, b = tb.clone(random.choice(pop)), tb.clone(random.choice(pop))
        gep.mutate_uniform(a, pset=pset, ind_pb=0.044)
        gep.is_transpose(a)
        gep.ris_transpose(a)
        gep.crossover_one_point(a, b)
        gep.crossover_two_point(a, b)
        for g in a:
            g.kexpression   # geppy decodes the ORF (a list; genelang also builds the tree)
        pop[k % POP] = a
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    # rounds interleave the three measurements, so a machine that speeds up or
    # slows down mid-run moves them alike; the medians are reported
    ours, converted, theirs = [], [], []
    for _ in range(args.rounds):
        ours.append(bench_genelang(args.n))
        converted.append(bench_genelang(args.n, convert=True))
        g = bench_geppy(max(1000, args.n // 10))
        if g is not None:
            theirs.append(g)
    med = statistics.median
    print(f"population {POP}, {GENES} genes of head {HEAD}; {args.rounds} interleaved rounds, medians")
    print(f"genelang:                          {med(ours):8.0f} offspring/s")
    print(f"genelang + symbol-list round trip: {med(converted):8.0f} offspring/s")
    if not theirs:
        print("geppy not installed (pip install geppy) — no ratio")
        return
    ratios = sorted(o / t for o, t in zip(ours, theirs))
    print(f"geppy:                             {med(theirs):8.0f} offspring/s")
    print(f"ratio genelang / geppy: {med(ratios):.1f}x (rounds {ratios[0]:.1f}–{ratios[-1]:.1f}; goal ≥ 20x); "
          f"with the round trip {med([c / t for c, t in zip(converted, theirs)]):.1f}x")


if __name__ == "__main__":
    main()
