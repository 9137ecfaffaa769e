"""The mixed operation at one position: its candidate modules, run as the
architecture sample says.

- every choice, weighted and summed (DARTS, PC-DARTS): `Σ_k w_k · op_k(x)`;
- one choice (GDAS): `w_c · op_c(x)` where `w` is a straight-through one-hot,
  so the forward runs a single op while the gradient of `w_c` still reaches
  every logit through the softmax it was built from;
- on a 1/K channel sample (PC-DARTS): the ops see the first C/K channels, the
  rest bypass them (max-pooled where the ops stride), and a channel shuffle
  mixes the two so that the next step samples different channels.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class MixedOp(nn.Module):
    def __init__(self, ops: Sequence[nn.Module], partial: int = 1, bypass: nn.Module | None = None):
        """`bypass`: what the channels the ops do not see go through (PC-DARTS: a
        2×2 max-pool where the ops stride; default: nothing)."""
        super().__init__()
        self.ops = nn.ModuleList(ops)
        self.partial = partial
        self.bypass = bypass if bypass is not None else nn.Identity()

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: int | None = None) -> torch.Tensor:
        if self.partial == 1:
            return self._mix(x, weights, chosen)
        k = x.shape[1] // self.partial
        mixed = self._mix(x[:, :k], weights, chosen)
        return channel_shuffle(torch.cat([mixed, self.bypass(x[:, k:])], dim=1), self.partial)

    def _mix(self, x: torch.Tensor, weights: torch.Tensor, chosen: int | None) -> torch.Tensor:
        if chosen is not None:
            return weights[chosen] * self.ops[chosen](x)
        return sum(w * op(x) for w, op in zip(weights, self.ops))
