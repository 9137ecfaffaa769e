"""Evaluations per minute of each fitness estimator on Fashion-MNIST, over the
same random genomes of the quick spec's space, in one process (2 threads).

Run: .venv/bin/python bench/bench_estimators.py [--genomes 8]
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

from genelang.compiler.printer import format_genome
from genelang.evolve.fitness import evaluate_candidate
from genelang.evolve.spec import load_spec
from genelang.evolve.template import Template

ROOT = Path(__file__).resolve().parents[1]


def genomes(spec, n: int, seed: int = 0) -> list[str]:
    t = Template.from_spec(spec.space)
    rng = random.Random(seed)
    return [format_genome(t.genome(t.random(rng))) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genomes", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(2)
    spec = load_spec(ROOT / "examples" / "specs" / "quick.yaml")
    base = spec.model_dump()
    base["_threads"] = 2
    texts = genomes(spec, args.genomes)
    evaluate_candidate(texts[0], dict(base, fitness=dict(base["fitness"], estimator="params")), 0)  # load data
    print(f"{args.genomes} random genomes of examples/specs/quick.yaml's space "
          f"(Fashion-MNIST subset {spec.task.subset}, C={spec.model.C})")
    for est in ("params", "naswot", "synflow", "random-weights", "train"):
        s = dict(base, fitness=dict(base["fitness"], estimator=est))
        t = time.perf_counter()
        ok = sum(evaluate_candidate(x, s, i)["status"] == "ok" for i, x in enumerate(texts))
        dt = time.perf_counter() - t
        print(f"{est:>15}: {60 * len(texts) / dt:8.1f} evaluations/min  ({dt / len(texts):.2f} s each, {ok} ok)")


if __name__ == "__main__":
    main()
