"""Search strategies over the same space, so results are comparable:
`gep` (GEP with elitism and tournament/roulette selection), `random` (the
baseline every NAS method must beat) and `regularized-evolution` (aging
evolution, Real et al. 2019). Each proposes children from a population and
then merges the evaluated children into the next population."""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

from genelang.evolve.operators import apply_operators, mutate_one
from genelang.evolve.selection import rank_keys, roulette, tournament
from genelang.evolve.template import Symbols, Template


@dataclass(frozen=True)
class Member:
    syms: tuple[tuple[str, ...], ...]
    age: int = 0
    objectives: tuple[float, ...] | None = None   # None until evaluated

    @classmethod
    def of(cls, syms: Symbols, age: int = 0) -> "Member":
        return cls(tuple(tuple(g) for g in syms), age)

    def lists(self) -> Symbols:
        return [list(g) for g in self.syms]


def _keys(members: list[Member]):
    return rank_keys([m.objectives for m in members])


def best_first(members: list[Member]) -> list[Member]:
    keys = _keys(members)
    order = sorted(range(len(members)), key=lambda i: (keys[i], -i), reverse=True)
    return [members[i] for i in order]


class GEP:
    def __init__(self, spec, template: Template):
        self.s, self.t = spec.strategy, template

    def initial(self, rng: random.Random) -> list[Member]:
        return [Member.of(self.t.random(rng)) for _ in range(self.s.population)]

    def _select(self, pop: list[Member], keys, rng) -> Member:
        if self.s.selection == "roulette":
            return pop[roulette([m.objectives[0] for m in pop], rng)]
        return pop[tournament(keys, self.s.tournament, rng)]

    def propose(self, pop: list[Member], rng: random.Random) -> list[Member]:
        keys = _keys(pop)
        n_children = self.s.population - self.s.elitism
        children: list[Member] = []
        while len(children) < n_children:
            a, b = self._select(pop, keys, rng), self._select(pop, keys, rng)
            ca, cb = apply_operators(a.lists(), b.lists(), self.t, self.s.operators, rng)
            children += [Member.of(ca), Member.of(cb)]
        children = children[:n_children]
        # NASGEP: the oldest are removed; fresh random individuals take their place
        if self.s.max_age is not None:
            elites = [m for m in best_first(pop) if m.age + 1 <= self.s.max_age][: self.s.elitism]
            children += [Member.of(self.t.random(rng)) for _ in range(self.s.elitism - len(elites))]
        return children

    def merge(self, pop: list[Member], children: list[Member], rng) -> list[Member]:
        elites = best_first(pop)
        if self.s.max_age is not None:
            elites = [m for m in elites if m.age + 1 <= self.s.max_age]
        elites = [replace(m, age=m.age + 1) for m in elites[: self.s.elitism]]
        return (elites + children)[: self.s.population]


class RandomSearch(GEP):
    def propose(self, pop, rng):
        return [Member.of(self.t.random(rng)) for _ in range(self.s.population)]

    def merge(self, pop, children, rng):
        return best_first(pop + children)[: self.s.population]


class RegularizedEvolution(GEP):
    """Aging evolution, batched: each generation breeds `population` children,
    each from the best of a random sample; the oldest as many die."""

    def propose(self, pop, rng):
        keys = _keys(pop)
        children = []
        for _ in range(self.s.population):
            sample = rng.sample(range(len(pop)), min(self.s.sample_size, len(pop)))
            parent = pop[max(sample, key=lambda i: (keys[i], -i))]
            for _ in range(100):
                child = mutate_one(parent.lists(), self.t, rng)
                if self.t.is_valid(child):
                    break
            else:
                child = parent.lists()
            children.append(Member.of(child))
        return children

    def merge(self, pop, children, rng):
        return [replace(m, age=m.age + 1) for m in pop + children][-self.s.population:]


def make_strategy(spec, template: Template):
    return {"gep": GEP, "random": RandomSearch,
            "regularized-evolution": RegularizedEvolution}[spec.strategy.name](spec, template)
