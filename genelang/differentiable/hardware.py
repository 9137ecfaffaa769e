"""A hardware constraint as a differentiable loss: the derived network's cost
(parameters, multiply-adds or latency) in expectation under the architecture
distribution, `base + Σ_p Σ_k softmax(α_p)_k · cost(p, k)` (a `PriceGrid`: the
relaxation's `CostGrid`, or its latency table entries), compared with a
target. Forms: `hinge` (only a cost above the target is penalised: a budget),
`linear` (NNI's and ProxylessNAS's `scale·(cost/target − 1)`, which always
pushes down) and `abs` (TuNAS: pulls towards the target)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from genelang.differentiable.relaxation import PriceGrid

PENALTIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "hinge": lambda r: F.relu(r - 1),
    "linear": lambda r: r - 1,
    "abs": lambda r: (r - 1).abs(),
}
COSTS = ("params", "macs")      # every relaxation prices these; latency needs a table (`latency_entries`)
LATENCY = "latency"             # in milliseconds, from the spec's latency table


@dataclass(frozen=True)
class HardwareTarget:
    """What the spec asks for: a cost, its target, the loss's weight and form."""
    cost: str = "params"         # params | macs | latency (target in ms)
    target: float = 1e6
    weight: float = 1.0
    form: str = "hinge"          # a key of PENALTIES


@dataclass(frozen=True)
class HardwareLoss:
    grid: PriceGrid              # the target's cost
    want: HardwareTarget

    def __call__(self, probs: Sequence[torch.Tensor]) -> torch.Tensor:
        ratio = self.grid.expected(probs) / self.want.target
        return self.want.weight * PENALTIES[self.want.form](ratio)


def latency_prices(relaxation, predictor, *, num_classes: int, input_shape: tuple[int, ...]) -> PriceGrid:
    """The derived network's milliseconds per (position, choice) from `predictor`'s
    table (runtime.latency.predict.Predictor), the entries it lacks measured now
    or, with `measure_missing: false`, reported (`MissingLatency`)."""
    entries = relaxation.latency_entries(num_classes=num_classes, input_shape=tuple(input_shape))
    return entries.prices(predictor.values(entries.names()))
