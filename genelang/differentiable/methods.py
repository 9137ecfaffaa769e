"""How architecture weights become a mixed network's sample: one registry
entry per relaxation method.

- `softmax` (DARTS): w = softmax(α) at every position, every op run.
- `gumbel` (GDAS, Dong & Yang 2019): per step, h = one_hot(argmax y) −
  y.detach() + y with y = softmax((log_softmax(α) + g) / τ), g Gumbel noise:
  the forward is the one-hot (one op runs), the backward is softmax's. τ
  falls linearly from `tau_max` to `tau_min` over the search (GDAS: 10 → 0.1).
- `partial` (PC-DARTS, Xu et al. 2020): softmax weights on a 1/K channel
  sample, and edge normalisation: each position's output scaled by
  softmax(β) over the positions summed into the same node.

Noise comes from a generator the caller seeds per step, so a resumed search
draws what an uninterrupted one draws.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genelang.differentiable.architecture import Architecture
from genelang.differentiable.relaxation import ArchSample


class Method(ABC):
    name: str
    partial: int = 1                  # the ops see 1/partial of the channels
    edge_normalisation: bool = False  # the architecture has β per group

    @abstractmethod
    def sample(self, arch: Architecture, generator: torch.Generator | None, progress: float) -> ArchSample:
        """The sample for one forward pass; `progress` runs from 0 (first epoch) to 1 (last)."""

    def scales(self, arch: Architecture) -> list[torch.Tensor | None]:
        out: list[torch.Tensor | None] = [None] * len(arch.alpha)
        if self.edge_normalisation:
            for group, beta in zip(arch.groups, arch.beta):
                for member, s in zip(group, F.softmax(beta, dim=-1)):
                    out[member] = s
        return out


@dataclass
class Softmax(Method):
    name: str = "softmax"

    def sample(self, arch, generator, progress):
        return ArchSample([F.softmax(a, dim=-1) for a in arch.alpha], [None] * len(arch.alpha), self.scales(arch))


@dataclass
class PartialChannels(Softmax):
    name: str = "partial"
    partial: int = 4
    edge_normalisation: bool = True


@dataclass
class HardGumbel(Method):
    name: str = "gumbel"
    tau_max: float = 10.0
    tau_min: float = 0.1

    def tau(self, progress: float) -> float:
        return self.tau_max - (self.tau_max - self.tau_min) * progress

    def sample(self, arch, generator, progress):
        tau, weights, chosen = self.tau(progress), [], []
        for a in arch.alpha:
            # Gumbel(0, 1) = −log(Exp(1)), drawn on the CPU from the step's generator
            g = -torch.empty(a.shape).exponential_(generator=generator).log().to(a.device, a.dtype)
            y = F.softmax((F.log_softmax(a, dim=-1) + g) / tau, dim=-1)
            c = int(torch.argmax(y))
            weights.append(F.one_hot(torch.tensor(c, device=a.device), len(a)).to(y.dtype) - y.detach() + y)
            chosen.append(c)
        return ArchSample(weights, chosen, self.scales(arch))


METHODS: dict[str, type[Method]] = {"softmax": Softmax, "gumbel": HardGumbel, "partial": PartialChannels}
