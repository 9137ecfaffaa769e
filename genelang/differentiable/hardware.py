"""A hardware constraint as a differentiable loss: the derived network's cost
(parameters or multiply-adds) in expectation under the architecture
distribution, `base + Σ_p Σ_k softmax(α_p)_k · cost(p, k)` (the relaxation's
`CostGrid`), compared with a target. Forms: `hinge` (only a cost above the
target is penalised: a budget), `linear` (NNI's `scale·(cost/target − 1)`,
which always pushes down) and `abs` (TuNAS: pulls towards the target)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from genelang.differentiable.relaxation import CostGrid

PENALTIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "hinge": lambda r: F.relu(r - 1),
    "linear": lambda r: r - 1,
    "abs": lambda r: (r - 1).abs(),
}
COSTS = ("params", "macs")


def expected_cost(grid: CostGrid, probs: Sequence[torch.Tensor], cost: str) -> torch.Tensor:
    total = torch.tensor(float(getattr(grid.base, cost)), device=probs[0].device)
    for p, row in zip(probs, grid.choices):
        total = total + (p * torch.tensor([float(getattr(c, cost)) for c in row], device=p.device)).sum()
    return total


@dataclass(frozen=True)
class HardwareTarget:
    """What the spec asks for: a cost, its target, the loss's weight and form."""
    cost: str = "params"         # params | macs
    target: float = 1e6
    weight: float = 1.0
    form: str = "hinge"          # a key of PENALTIES


@dataclass(frozen=True)
class HardwareLoss:
    grid: CostGrid
    want: HardwareTarget

    def __call__(self, probs: Sequence[torch.Tensor]) -> torch.Tensor:
        ratio = expected_cost(self.grid, probs, self.want.cost) / self.want.target
        return self.want.weight * PENALTIES[self.want.form](ratio)
