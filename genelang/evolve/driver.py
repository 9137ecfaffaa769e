"""The one generation loop every search runs — `genelang evolve` (evolve/search.py)
and the tabular lab (study/tabular_lab.py) — and its one rule for what is
evaluated: each phenotype once, ever.

Generation g draws from `Random(f"{seed}:{g}")`: generation 0 is the
strategy's initial population, every later one the children it proposes,
merged into the next population once evaluated.
"""
from __future__ import annotations

import random
from typing import Callable, Protocol

from genelang.compiler.dag import phenotype_hash
from genelang.compiler.template import Template
from genelang.evolve.strategies import Member, Strategy


class Evaluate(Protocol):
    def __call__(self, members: list[Member], generation: int) -> list[Member]:
        """The members with their objectives (and the strategy told, `Strategy.observe`)."""


def generation_rng(seed: int, generation: int) -> random.Random:
    return random.Random(f"{seed}:{generation}")


def new_phenotypes(template: Template, members: list[Member], known) -> tuple[list[str], list[int]]:
    """(each member's phenotype, the index of the first member of each phenotype
    not in `known`): the candidates to evaluate, in order."""
    phen = [phenotype_hash(template.genome(m.lists())) for m in members]
    first_of: dict[str, int] = {}
    for i, p in enumerate(phen):
        if p not in known:
            first_of.setdefault(p, i)
    return phen, list(first_of.values())


def run_generations(strategy: Strategy, seed: int, evaluate: Evaluate, *, stop: Callable[[int], bool],
                    population: list[Member] | None = None, first: int = 0,
                    before: Callable[[int], None] = lambda g: None,
                    after: Callable[[int, list[Member]], None] = lambda g, pop: None,
                    initial: Callable[[], list[Member]] | None = None) -> list[Member]:
    """Breed and evaluate generations from `first` until `stop(g)` says so before
    generation g; `population` is the evaluated population of generation
    first − 1 (None: start with generation 0). `before(g)` runs before a
    generation is proposed, `after(g, population)` once it is merged."""
    g = first
    if population is None:
        before(0)
        population = evaluate(initial() if initial else strategy.initial(generation_rng(seed, 0)), 0)
        after(0, population)
        g = 1
    while not stop(g):
        rng = generation_rng(seed, g)
        before(g)
        children = evaluate(strategy.propose(population, rng), g)
        population = strategy.merge(population, children, rng)
        after(g, population)
        g += 1
    return population
