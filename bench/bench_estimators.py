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
from genelang.evolve.execution.evaluation import EvalContext, EvalRequest
from genelang.evolve.execution.fitness import evaluate
from genelang.evolve.spec.schema import load_spec
from genelang.compiler.template import Template

ROOT = Path(__file__).resolve().parents[1]


def genomes(spec, n: int, seed: int = 0) -> list[str]:
    t = Template.from_spec(spec.space)
    rng = random.Random(seed)
    return [format_genome(t.genome(t.random(rng))) for _ in range(n)]


def request(spec, estimator: str, text: str, seed: int) -> EvalRequest:
    """The request a search would send for `text`, scored by `estimator`, on 2 threads."""
    fitness = spec.fitness.model_copy(update={"estimator": estimator})
    return EvalRequest(text, seed, spec.model_copy(update={"fitness": fitness}), EvalContext(threads=2))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genomes", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(2)
    spec = load_spec(ROOT / "examples" / "specs" / "quick.yaml")
    texts = genomes(spec, args.genomes)
    evaluate(request(spec, "params", texts[0], 0))  # load data
    print(f"{args.genomes} random genomes of examples/specs/quick.yaml's space "
          f"(Fashion-MNIST subset {spec.task.subset}, C={spec.model.C})")
    for est in ("params", "naswot", "synflow", "random-weights", "train"):
        t = time.perf_counter()
        ok = sum(evaluate(request(spec, est, x, i)).status == "ok" for i, x in enumerate(texts))
        dt = time.perf_counter() - t
        print(f"{est:>15}: {60 * len(texts) / dt:8.1f} evaluations/min  ({dt / len(texts):.2f} s each, {ok} ok)")


if __name__ == "__main__":
    main()
