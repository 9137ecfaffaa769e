"""The architecture parameters: α, one logit per (position, choice), and for
edge normalisation β, one per member of each group of summed positions.
Initialised as the anchors do (NNI, DARTS): 1e-3 · randn, from the seed."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class Architecture(nn.Module):
    def __init__(self, sizes: Sequence[int], groups: Sequence[Sequence[int]] = (), *, seed: int = 0,
                 scale: float = 1e-3):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.groups = tuple(tuple(grp) for grp in groups)
        self.alpha = nn.ParameterList([nn.Parameter(scale * torch.randn(n, generator=g)) for n in sizes])
        self.beta = nn.ParameterList([nn.Parameter(scale * torch.randn(len(grp), generator=g))
                                      for grp in self.groups])

    def probs(self) -> list[torch.Tensor]:
        """The architecture distribution: softmax(α) per position."""
        return [F.softmax(a, dim=-1) for a in self.alpha]

    def snapshot(self) -> list[list[float]]:
        return [a.detach().cpu().tolist() for a in self.alpha]
