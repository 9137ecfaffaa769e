"""Search strategies over the same space, so results are comparable:
`gep` (GEP with elitism and tournament/roulette selection), `random` (the
baseline every NAS method must beat) and `regularized-evolution` (aging
evolution, Real et al. 2019).

A strategy is a registry entry with one small interface (`Strategy`): the
first population, children proposed from a population, and the next
population once the children are evaluated. Add one from any module with
`@register_strategy("name")` and name it in a spec's `strategy.name`."""
from __future__ import annotations

import importlib
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
from pydantic import BaseModel

from genelang.evolve.genome.codec import Codec
from genelang.evolve.genome.operators import keep_valid, mutate_one, reproduce
from genelang.evolve.strategies.selection import rank_keys, roulette, tournament
from genelang.compiler.template import Symbols, Template


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


class Strategy(ABC):
    """Propose a generation; be told its results. Members carry their
    objectives once evaluated (`Member.objectives`, best first by `best_first`)."""

    def __init__(self, spec, template: Template):
        self.s, self.t = spec.strategy, template
        self.codec = Codec.of(template)
        model = _OPTIONS.get(spec.strategy.name)
        # `strategy.options` as the registered model (checked by `spec check` before any run)
        self.options = model.model_validate(spec.strategy.options) if model is not None else None

    def initial(self, rng: random.Random) -> list[Member]:
        """Generation 0 (default: random valid genomes)."""
        return [Member.of(self.t.random(rng)) for _ in range(self.s.population)]

    @abstractmethod
    def propose(self, pop: list[Member], rng: random.Random) -> list[Member]:
        """The children to evaluate next, bred from the evaluated population."""

    @abstractmethod
    def merge(self, pop: list[Member], children: list[Member], rng: random.Random) -> list[Member]:
        """The next population, from the population and its evaluated children."""

    def observe(self, members: list[Member]) -> None:
        """Evaluated members, in evaluation order, each generation (and on resume,
        every stored evaluation before the next generation): for strategies that
        learn from the whole history."""


class SamplesPaths(ABC):
    """A strategy that also drives one-shot training: after generation 0, the
    supernet trains on the groups of genomes it samples (ENAS's alternation)."""

    @abstractmethod
    def next_group(self, rng: random.Random) -> list[Symbols]:
        """The genomes whose gradients make one supernet step."""


_STRATEGIES: dict[str, type[Strategy]] = {}
Checks = Callable[[Any], list[tuple[str, str, str]]]
_CHECKS: dict[str, Checks] = {}
_OPTIONS: dict[str, type[BaseModel]] = {}
# the built-in strategies that live in modules of their own, registered on first use
BUILTIN_MODULES = ("genelang.evolve.strategies.predictor", "genelang.evolve.strategies.controller",
                   "genelang.evolve.strategies.differentiable")


def register_strategy(name: str, *, options: type[BaseModel] | None = None, checks: Checks | None = None,
                      replace_existing: bool = False):
    """Class decorator: register a `Strategy` subclass under `name`. `options`: a
    pydantic model of its `strategy.options` (extra keys forbidden is wise):
    `spec check` and every run refuse a bad option at `strategy.options.<key>`,
    and the strategy reads them validated as `self.options`. `checks(spec)`
    returns further rules of its own as (spec path, message, hint)."""
    def deco(cls: type[Strategy]) -> type[Strategy]:
        if name in _STRATEGIES and not replace_existing:
            raise ValueError(f"strategy {name!r} is already registered")
        _STRATEGIES[name] = cls
        for table, value in ((_CHECKS, checks), (_OPTIONS, options)):
            table.pop(name, None)
            if value is not None:
                table[name] = value
        return cls
    return deco


def _builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def strategies() -> dict[str, type[Strategy]]:
    _builtins()
    return dict(_STRATEGIES)


def strategy_checks(name: str) -> Checks | None:
    _builtins()
    return _CHECKS.get(name)


def strategy_options(name: str) -> type[BaseModel] | None:
    """The options model `name` was registered with (None: it takes none it checks)."""
    _builtins()
    return _OPTIONS.get(name)


@register_strategy("gep")
class GEP(Strategy):

    def _select(self, pop: list[Member], keys, rng) -> Member:
        if self.s.selection == "roulette":
            return pop[roulette([m.objectives[0] for m in pop], rng)]
        return pop[tournament(keys, self.s.tournament, rng)]

    def propose(self, pop: list[Member], rng: random.Random) -> list[Member]:
        keys = _keys(pop)
        n_children = self.s.population - self.s.elitism
        pairs = [(self._select(pop, keys, rng), self._select(pop, keys, rng))
                 for _ in range((n_children + 1) // 2)]
        A = self.codec.encode([a.lists() for a, _ in pairs])
        B = self.codec.encode([b.lists() for _, b in pairs])
        CA, CB = reproduce(A, B, self.codec, self.s.operators, np.random.default_rng(rng.getrandbits(64)))
        rows = np.stack([CA, CB], axis=1).reshape(-1, A.shape[1])     # a0, b0, a1, b1, ...
        parents = np.stack([A, B], axis=1).reshape(-1, A.shape[1])
        children = [Member.of(s) for s in self.codec.decode(keep_valid(rows, parents, self.codec))][:n_children]
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


@register_strategy("random")
class RandomSearch(Strategy):
    def propose(self, pop, rng):
        return [Member.of(self.t.random(rng)) for _ in range(self.s.population)]

    def merge(self, pop, children, rng):
        return best_first(pop + children)[: self.s.population]


@register_strategy("regularized-evolution")
class RegularizedEvolution(Strategy):
    """Aging evolution, batched: each generation breeds `population` children,
    each from the best of a random sample; the oldest as many die."""

    def propose(self, pop, rng):
        keys = _keys(pop)
        parents = []
        for _ in range(self.s.population):
            sample = rng.sample(range(len(pop)), min(self.s.sample_size, len(pop)))
            parents.append(pop[max(sample, key=lambda i: (keys[i], -i))])
        X = self.codec.encode([p.lists() for p in parents])
        nrng = np.random.default_rng(rng.getrandbits(64))
        children: list[Member | None] = [None] * len(parents)
        todo = np.arange(len(parents))
        for _ in range(100):   # redraw the mutations the checker rejects
            for i, syms in zip(todo.tolist(), self.codec.decode(mutate_one(X[todo], self.codec, nrng))):
                if self.t.is_valid(syms):
                    children[i] = Member.of(syms)
            todo = np.array([i for i in todo.tolist() if children[i] is None], dtype=np.int64)
            if not len(todo):
                break
        return [c if c is not None else Member(p.syms) for c, p in zip(children, parents)]

    def merge(self, pop, children, rng):
        return [replace(m, age=m.age + 1) for m in pop + children][-self.s.population:]


def make_strategy(spec, template: Template) -> Strategy:
    return strategies()[spec.strategy.name](spec, template)
