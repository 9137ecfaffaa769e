"""Measure a search strategy in seconds: strategies run over NAS-Bench-201's
table instead of training, many seeds each, as NAS papers compare them.

Each query is one new cell; its reward (what the strategy sees) is the
validation accuracy of one stored training seed, drawn by the run's seed; the
incumbent is the cell of highest reward so far, and what is reported is that
cell's mean accuracy over its stored seeds (the benchmark's protocol). The
strategies are genelang's own (`evolve/strategies/base.py`, any registered one),
driven generation by generation exactly as `genelang evolve` drives them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from genelang.compiler.nb201 import key_of
from genelang.evolve.driver import new_phenotypes, run_generations
from genelang.evolve.search import candidate_seed
from genelang.evolve.spec.schema import Spec
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
    seen: dict[str, float] = {}         # phenotype -> reward, as `genelang evolve` caches evaluations
    trace: list[float] = []             # the incumbent's mean after each query
    best = (-np.inf, 0.0)
    seconds = 0.0
    stale = [0, 0]                      # generations with nothing new, queries before the last one

    def evaluate(members: list[Member], _generation: int) -> list[Member]:
        nonlocal best, seconds
        phen, todo = new_phenotypes(template, members, seen)
        for i in todo[: budget - len(trace)]:
            rec = table.lookup(key_of(template.genome(members[i].lists())), dataset)
            # the draw `genelang evolve`'s tabular estimator makes for this candidate
            reward = rec.draw(np.random.default_rng(candidate_seed(seed, phen[i])))
            seen[phen[i]] = reward
            seconds += rec.train_time
            if reward > best[0]:
                best = (reward, rec.mean)
            trace.append(best[1])
        out = [replace(m, objectives=(seen.get(p, -np.inf),)) for m, p in zip(members, phen)]
        strategy.observe(out)
        return out

    def after(_g: int, _pop: list[Member]) -> None:
        stale[0] = stale[0] + 1 if len(trace) == stale[1] else 0
        stale[1] = len(trace)

    # 100 generations with nothing new: a converged strategy
    run_generations(strategy, seed, evaluate, stop=lambda g: len(trace) >= budget or stale[0] >= 100, after=after)
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
