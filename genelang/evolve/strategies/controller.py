"""`controller`: ENAS's controller (Pham et al. 2018) as a search strategy.

A policy over the symbols of every free head and tail position of the
template (evolve/strategies/policy.py: independent categoricals, or ENAS's LSTM) proposes
each generation's `population` genomes; REINFORCE on their fitness trains it.

- Sampling: each free position draws from the policy; a genome the checker
  rejects (a reduction cell that cannot reduce) is drawn again, up to `tries`
  times, then replaced by a uniform random valid genome. So the policy
  gradient sees valid samples only: it is the gradient of the unconstrained
  policy, evaluated where the constrained one puts its mass (a bias that
  vanishes when invalid genomes are rare, as they are in the built-in spaces).
- Reward: the first objective (the fitness). A failed or infeasible candidate
  gets `penalty`: `worst` (default: the worst reward seen so far — as bad as
  anything seen, no worse, whatever the reward's units; skipped while none is
  known), `skip` (not learned from), or a number.
- Advantage: ENAS's moving-average baseline (`baseline_decay`, ENAS 0.95),
  divided by a moving average of the advantage's own size (same decay; both
  bias-corrected as Adam's moments are). The reward's units then do not
  matter — accuracy in [0, 1], percent, minus a parameter count — and
  `entropy` means the same for every estimator: nats worth one running
  standard deviation of reward. The first reward only seeds the baseline.
- Update: one Adam step per learned-from sample on −(advantage · log π(genome)
  + entropy · H(π)). `lr` defaults to 0.05 for `independent` — Adam moves
  each logit by about lr per step, and ENAS's 3.5e-4 is for tens of
  thousands of steps, while a search of a few hundred evaluations needs
  logits to move by a few units — and to 0.005 for `lstm`, whose shared
  weights move every position at each step (at 0.05 it collapsed to 5 of 43
  nats within 320 pure-noise rewards). `entropy` defaults to 0.1 (ENAS used
  1e-4 on a raw accuracy reward): over 2,000 pure-noise rewards the
  independent policy kept 36 of its 43 nats with it, 16 without, while on a
  clean planted reward it still reached 0.93 of the optimum (0.955 without);
  weight-sharing and low-fidelity rewards are noisy, and a controller that
  collapses early is ENAS's known failure.
- Which samples teach: each phenotype once, when first evaluated, in the
  order of the generation's candidates (a repeat or a genome expressing the
  same network is skipped). That is exactly what the store holds, so a
  resumed run replays its history through `observe` to the same policy.
- Population: the best `population` of the population and the children, so
  the run's population and best reflect what the policy found.

`Controller.sample(rng)` draws one valid genome from the current policy and
`next_group(rng)` returns [one sample]: the interface of the supernet's path
samplers, so the controller can choose the paths a supernet trains.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from genelang.compiler.dag import phenotype_hash
from genelang.evolve.strategies.base import Member, RandomSearch, SamplesPaths, register_strategy
from genelang.compiler.template import Symbols


_BATCH = 8


class ControllerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: Literal["independent", "lstm"] = "independent"
    lr: float | None = Field(None, gt=0)   # None: 0.05 (independent), 0.005 (lstm)
    baseline_decay: float = Field(0.95, ge=0, lt=1)
    entropy: float = Field(0.1, ge=0)
    penalty: float | str = "worst"          # worst | skip | a number
    tries: int = Field(100, ge=1)           # draws of an invalid genome before a uniform one
    hidden: int = Field(32, ge=1)           # lstm: the cell's width

    @field_validator("penalty")
    @classmethod
    def _penalty(cls, v):
        if isinstance(v, str) and v not in ("worst", "skip"):
            raise ValueError("a number, 'worst' (the worst reward so far) or 'skip'")
        return v


@dataclass
class Baseline:
    """Moving averages of the reward and of the squared advantage, bias-corrected."""
    decay: float
    mean: float = 0.0
    square: float = 0.0
    n: int = 0

    def advantage(self, reward: float) -> float:
        """The reward's advantage over the rewards before it, in their running
        standard deviations; then the reward joins them."""
        d, adv = self.decay, 0.0
        if self.n:
            base = self.mean / (1 - d ** self.n)
            self.square = d * self.square + (1 - d) * (reward - base) ** 2
            scale = math.sqrt(self.square / (1 - d ** self.n))
            adv = (reward - base) / scale if scale > 0 else 0.0
        self.n += 1
        self.mean = d * self.mean + (1 - d) * reward
        return adv


@register_strategy("controller", options=ControllerOptions)
class Controller(RandomSearch, SamplesPaths):
    def __init__(self, spec, template):
        super().__init__(spec, template)
        from genelang.evolve.strategies.policy import Positions, Reinforce, make_policy
        self.o = self.options
        self.positions = Positions(self.codec)
        self.policy = make_policy(self.o.policy, self.positions, hidden=self.o.hidden, seed=spec.run.seed)
        lr = self.o.lr or {"independent": 0.05, "lstm": 0.005}[self.o.policy]
        self.learner = Reinforce(self.policy, lr, self.o.entropy)
        self.baseline = Baseline(self.o.baseline_decay)
        self.seen: set[str] = set()
        self.worst: float | None = None
        self.rewards: list[float] = []      # the rewards learned from, in order

    def sample(self, rng: random.Random) -> Symbols:
        """One valid genome drawn from the policy (see the module's note on invalid draws)."""
        u = np.random.default_rng(rng.getrandbits(64))
        for start in range(0, self.o.tries, _BATCH):   # draws come in batches: one LSTM pass each
            for choices in self.policy.sample(u.random((min(_BATCH, self.o.tries - start), len(self.positions)))):
                syms = self.positions.symbols(choices)
                if self.t.is_valid(syms):
                    return syms
        return self.t.random(rng)

    def next_group(self, rng: random.Random) -> list[Symbols]:
        return [self.sample(rng)]

    def initial(self, rng: random.Random) -> list[Member]:
        return self.propose([], rng)

    def propose(self, pop: list[Member], rng: random.Random) -> list[Member]:
        return [Member.of(self.sample(rng)) for _ in range(self.s.population)]

    def observe(self, members: list[Member]) -> None:
        for m in members:
            key = phenotype_hash(self.t.genome(m.lists()))
            if key in self.seen:
                continue
            self.seen.add(key)
            reward = self._reward(m)
            if reward is not None:
                self.rewards.append(reward)
                self.learner.step(self.positions.choices(m.lists()), self.baseline.advantage(reward))

    def _reward(self, m: Member) -> float | None:
        r = m.objectives[0] if m.objectives else -math.inf
        if math.isfinite(r):
            self.worst = r if self.worst is None else min(self.worst, r)
            return float(r)
        if self.o.penalty == "worst":
            return self.worst
        return None if self.o.penalty == "skip" else float(self.o.penalty)
