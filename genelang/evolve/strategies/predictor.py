"""`predictor-gep`: GEP whose offspring are screened by a learned predictor.

Each generation breeds `screen` times as many children as it will evaluate
(GEP's own selection and operators), drops those already evaluated, and
evaluates only the `population − elitism` the predictor (evolve/strategies/surrogate.py),
trained on every evaluation so far, ranks highest. Until `warmup`
evaluations exist it is plain GEP. It works with any estimator: the predictor
learns from whatever fitness the store holds.

Options (`strategy.options`): `predictor` (ridge | gbm | forest | mlp,
default gbm), `screen` (default 10), `warmup` (default 2 × population).
The rank correlation of each generation's predictions with the fitness its
children then scored is kept in `held_out` (evaluations trained on, ρ).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from genelang.evolve.strategies.base import GEP, Member, register_strategy
from genelang.evolve.strategies.surrogate import MODELS, Surrogate


class PredictorOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    predictor: Literal[MODELS] = "gbm"          # the surrogate (evolve/strategies/surrogate.py)
    screen: int = Field(10, ge=1)               # GEP generations bred per proposal, the best kept
    warmup: int | None = Field(None, ge=0)      # evaluations before the surrogate is used (None: 2 × population)


@register_strategy("predictor-gep", options=PredictorOptions)
class PredictorGEP(GEP):
    def __init__(self, spec, template):
        super().__init__(spec, template)
        o = self.options
        self.kind = o.predictor
        self.screen = o.screen
        self.warmup = o.warmup if o.warmup is not None else 2 * self.s.population
        self.seed = spec.run.seed
        self.seen: dict[tuple, float] = {}          # genome symbols -> fitness, in evaluation order
        self.held_out: list[tuple[int, float]] = []
        self._pending: dict[tuple, float] = {}      # predictions awaiting their outcome

    def observe(self, members: list[Member]) -> None:
        outcome = []
        for m in members:
            f = m.objectives[0] if m.objectives else -np.inf
            if np.isfinite(f) and m.syms not in self.seen:
                self.seen[m.syms] = float(f)
                if m.syms in self._pending:
                    outcome.append((self._pending[m.syms], float(f)))
        if len(outcome) >= 3:
            from scipy.stats import spearmanr
            p, y = zip(*outcome)
            rho = spearmanr(p, y).statistic
            self.held_out.append((len(self.seen) - len(outcome), float(rho) if np.isfinite(rho) else 0.0))
        self._pending.clear()

    def propose(self, pop: list[Member], rng) -> list[Member]:
        n = self.s.population - self.s.elitism
        if len(self.seen) < self.warmup:
            return super().propose(pop, rng)
        pool: dict[tuple, Member] = {}
        for _ in range(self.screen):
            for m in super().propose(pop, rng):
                if m.syms not in self.seen:
                    pool.setdefault(m.syms, m)
        if len(pool) <= n:
            return list(pool.values()) + super().propose(pop, rng)[: n - len(pool)]
        model = Surrogate(self.codec, self.kind, self.seed + len(self.seen))
        model.fit(self.codec.encode([list(map(list, s)) for s in self.seen]), np.array(list(self.seen.values())))
        cands = list(pool.values())
        scores = model.predict(self.codec.encode([m.lists() for m in cands]))
        order = sorted(range(len(cands)), key=lambda i: (-scores[i], i))[:n]
        self._pending = {cands[i].syms: float(scores[i]) for i in order}
        return [cands[i] for i in order]
