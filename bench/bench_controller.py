"""Controller vs random sampling over the same supernet (issue 15): a
controller search (ENAS alternation) on examples/specs/controller_fmnist.yaml,
shrunk to this CPU by the flags; then 100 genomes drawn from the trained
policy and 100 uniform random genomes, all scored through the run's final
supernet by the `supernet` estimator. Prints both distributions (quantiles and
a text histogram) and the test `genelang compare --group` applies (Welch's t,
Mann-Whitney U, Cohen's d; study/stats.pairwise) to the two groups' scores.

Run: .venv/bin/python bench/bench_controller.py [--steps 1500] [--generations 15]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from statistics import mean, quantiles, stdev

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genelang.compiler.printer import format_genome  # noqa: E402
from genelang.evolve.strategies.controller import Controller  # noqa: E402
from genelang.evolve.execution.evaluation import EvalRequest  # noqa: E402
from genelang.evolve.execution.fitness import evaluate  # noqa: E402
from genelang.evolve.search import Search, run_search  # noqa: E402
from genelang.evolve.spec.schema import load_spec  # noqa: E402
from genelang.study.stats import pairwise  # noqa: E402

SPEC = ROOT / "examples" / "specs" / "controller_fmnist.yaml"


def shrunk(args, out: Path):
    spec = load_spec(SPEC)
    u = lambda section, **kw: getattr(spec, section).model_copy(update=kw)  # noqa: E731
    return spec.model_copy(update={
        "run": u("run", out=str(out)), "task": u("task", subset=args.subset),
        "strategy": u("strategy", generations=args.generations, population=args.population),
        "supernet": u("supernet", steps=args.steps, steps_per_generation=args.per_generation,
                      val_samples=args.val_samples),
        "execution": u("execution", workers=0, threads=args.threads)})


def trained_controller(spec, run_dir: Path) -> Controller:
    """The run's policy as it ended: its history replayed (what a resume does)."""
    search = Search(spec, run_dir)
    try:
        search.strategy.observe(search._history(search.store.last_generation()))
        return search.strategy
    finally:
        search.store.close()
        search.lock.release()


def scores(spec, run_dir: Path, genomes: list, context) -> list[float]:
    out = []
    for g in genomes:
        r = evaluate(EvalRequest(format_genome(g), 0, spec, context))
        assert r.ok, r.reason
        out.append(r.fitness)
    return out


def histogram(name: str, values: list[float], lo: float, hi: float, bins: int = 12) -> None:
    width = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    print(f"{name}:")
    for k, c in enumerate(counts):
        print(f"  {lo + k * width:.3f}–{lo + (k + 1) * width:.3f} {'#' * c}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500, help="supernet warm-up steps")
    ap.add_argument("--per-generation", type=int, default=20, help="supernet steps between generations")
    ap.add_argument("--generations", type=int, default=15)
    ap.add_argument("--population", type=int, default=20)
    ap.add_argument("--subset", type=int, default=10000)
    ap.add_argument("--val-samples", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_controller"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec = shrunk(args, args.out)
    t0 = time.perf_counter()
    result = run_search(spec)
    print(f"controller search: {result.evaluations} evaluations, best {result.best_fitness:.4f}, "
          f"{time.perf_counter() - t0:.0f} s")
    from genelang.evolve.execution.backends import worker_threads
    from genelang.evolve.execution.evaluation import EvalContext, RunState
    from genelang.evolve.estimators.oneshot import prepare
    ctrl = trained_controller(spec, result.run_dir)
    state = RunState(spec, result.run_dir, EvalContext(threads=worker_threads(spec)))
    context = prepare(state, None, spec.strategy.generations - 1)
    rng = random.Random(12345)
    groups = {"controller": [ctrl.t.genome(ctrl.sample(rng)) for _ in range(args.samples)],
              "random": [ctrl.t.genome(ctrl.t.random(rng)) for _ in range(args.samples)]}
    values = {k: scores(spec, result.run_dir, v, context) for k, v in groups.items()}
    lo = min(min(v) for v in values.values())
    hi = max(max(v) for v in values.values())
    for k, v in values.items():
        q = quantiles(v, n=4)
        print(f"{k:>10}: n={len(v)} mean {mean(v):.4f} sd {stdev(v):.4f} quartiles "
              f"{q[0]:.4f} {q[1]:.4f} {q[2]:.4f} max {max(v):.4f}")
        histogram(k, v, lo, hi)
    p = pairwise(values)[0]
    print(f"{p.a} − {p.b}: {p.diff:+.4f}; Welch p {p.welch_p:.2g}, Mann-Whitney p {p.mannwhitney_p:.2g}, "
          f"Cohen's d {p.cohens_d:.2f}")


if __name__ == "__main__":
    main()
