"""Measure a search strategy in seconds: strategies run over NAS-Bench-201's
table instead of training, many seeds each, as NAS papers compare them.

Each query is one new cell; its reward (what the strategy sees) is the
validation accuracy of one stored training seed, drawn by the run's seed; the
incumbent is the cell of highest reward so far, and what is reported is that
cell's mean accuracy over its stored seeds (the benchmark's protocol). The
strategies are genelang's own (`evolve/strategies.py`, any registered one),
driven generation by generation exactly as `genelang evolve` drives them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from genelang.compiler.nb201 import key_of
from genelang.evolve.search import candidate_seed
from genelang.evolve.spec import Spec
from genelang.evolve.strategies import Member, make_strategy
from genelang.compiler.template import Template
from genelang.runtime.nb201_table import NB201Table


@dataclass
class LabRun:
    seed: int
    best_at: dict[int, float]            # budget (queries) -> the incumbent's mean accuracy
    queries: int
    simulated_seconds: float             # the benchmark's training time of every queried cell
    held_out: list[tuple[int, float]] = field(default_factory=list)   # predictor-guided: (trained on, rho)


def simulate(spec: Spec, seed: int, budgets: tuple[int, ...], table: NB201Table, dataset: str = "cifar10") -> LabRun:
    """One search of `spec`'s strategy with run seed `seed`, until max(budgets) queries."""
    spec = spec.model_copy(update={"run": spec.run.model_copy(update={"seed": seed})})
    template = Template.from_spec(spec.space)
    strategy = make_strategy(spec, template)
    budget = max(budgets)
    seen: dict[tuple, float] = {}
    trace: list[float] = []             # the incumbent's mean after each query
    best = (-np.inf, 0.0)
    seconds = 0.0

    def evaluate(members: list[Member]) -> list[Member]:
        nonlocal best, seconds
        out = []
        for m in members:
            if m.syms not in seen and len(trace) < budget:
                key = key_of(template.genome(m.lists()))
                rec = table.lookup(key, dataset)
                reward = rec.draw(np.random.default_rng(candidate_seed(seed, key)))
                seen[m.syms] = reward
                seconds += rec.train_time
                if reward > best[0]:
                    best = (reward, rec.mean)
                trace.append(best[1])
            out.append(Member(m.syms, m.age, (seen.get(m.syms, -np.inf),)))
        strategy.observe(out)
        return out

    pop = evaluate(strategy.initial(random.Random(f"{seed}:0")))
    g, stale = 1, 0
    while len(trace) < budget and stale < 100:   # 100 generations with nothing new: a converged strategy
        rng = random.Random(f"{seed}:{g}")
        before = len(trace)
        pop = strategy.merge(pop, evaluate(strategy.propose(pop, rng)), rng)
        g += 1
        stale = stale + 1 if len(trace) == before else 0
    return LabRun(seed, {b: trace[min(b, len(trace)) - 1] for b in budgets}, len(trace), seconds,
                  list(getattr(strategy, "held_out", [])))


@dataclass
class StrategyResult:
    name: str
    runs: list[LabRun]

    def at(self, budget: int) -> np.ndarray:
        return np.array([r.best_at[budget] for r in self.runs])


def compare_strategies(specs: dict[str, Spec], seeds: range, budgets: tuple[int, ...], table: NB201Table,
                       dataset: str = "cifar10", progress=None) -> list[StrategyResult]:
    out = []
    for name, spec in specs.items():
        runs = []
        for s in seeds:
            runs.append(simulate(spec, s, budgets, table, dataset))
            if progress:
                progress(name, s)
        out.append(StrategyResult(name, runs))
    return out


def p_value(a: np.ndarray, b: np.ndarray) -> float:
    """One-sided Mann–Whitney U: is `a` stochastically greater than `b`?"""
    from scipy.stats import mannwhitneyu
    return float(mannwhitneyu(a, b, alternative="greater").pvalue)
