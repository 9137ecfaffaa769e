"""What a shipped network expects of its input, and the module that turns a
raw input into what training fed the network.

Image tasks standardise pixels (scaled to [0, 1]) per channel with the
training set's mean and std when they load; a shipped image network takes the
[0, 1] image and standardises it itself, so a user needs nothing but torch.
Text tasks map lower-cased, whitespace-split words to ids; that vocabulary is
shipped beside the network as JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass(frozen=True)
class Preprocess:
    mean: tuple[float, ...] = ()          # per channel; empty: the input is used as it is
    std: tuple[float, ...] = ()
    vocab: list[str] = field(default_factory=list)   # token of each id (text tasks)

    @classmethod
    def of(cls, data) -> "Preprocess":
        """From a loaded task's data (ImageData, TextData, SeriesData)."""
        return cls(tuple(getattr(data, "mean", ())), tuple(getattr(data, "std", ())),
                   list(getattr(data, "vocab", None) or []))

    def record(self) -> dict:
        """What a `train --out` directory stores (the vocabulary is rebuilt from the task)."""
        return {"mean": list(self.mean), "std": list(self.std)}

    def token_ids(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}


class Standardize(nn.Module):
    """(x − mean) / std per channel of an N×C×H×W batch."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Shipped(nn.Module):
    """A trained network behind its input standardisation: takes raw [0, 1] images."""

    def __init__(self, standardize: Standardize, net: nn.Module):
        super().__init__()
        self.standardize = standardize
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.standardize(x))


def with_preprocess(net: nn.Module, pre: Preprocess) -> nn.Module:
    """`net` taking raw input: wrapped in its standardisation when it has one."""
    if not pre.mean:
        return net
    return Shipped(Standardize(pre.mean, pre.std), net).eval()
