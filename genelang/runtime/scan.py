"""Recurrent layers in a form torch.export keeps general over time.

`Direction` loops over the steps in Python, so an exported program is unrolled
for the example's length; the same cell run under torch's `scan` operator
exports once for any number of steps. Same weights, same outputs."""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch._higher_order_ops.scan import scan

from genelang.compiler.lower_rnn import Direction


class ScanDirection(nn.Module):
    def __init__(self, d: Direction):
        super().__init__()
        self.cell = d.cell
        self.reverse = d.reverse
        self.hidden = d.hidden
        self.n_states = d.n_states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.transpose(0, 1)
        if self.reverse:
            steps = steps.flip(0)
        init = [x.new_zeros(x.size(0), self.hidden) for _ in range(self.n_states)]

        def step(states, xt):
            new = self.cell(xt, states)
            return list(new), new[0].clone()   # scan's outputs may not alias its carry

        _, outs = scan(step, init, steps)
        if self.reverse:
            outs = outs.flip(0)
        return outs.transpose(0, 1)


def scanned(model: nn.Module) -> nn.Module:
    """A copy of `model` with every Direction run by scan (shares no state with `model`)."""
    model = copy.deepcopy(model)
    for name, child in list(model.named_modules()):
        for attr, sub in list(child.named_children()):
            if isinstance(sub, Direction):
                setattr(child, attr, ScanDirection(sub))
    return model.eval()
