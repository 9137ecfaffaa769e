"""Tiny differentiable searches for tests/test_differentiable.py, importable by
a subprocess (the SIGKILL resume test): a planted toy relaxation and nb201 on
8×8 digits at C=4, one cell per stage."""
import sys
import time

import torch
from torch import nn

from genelang.compiler.nb201 import genome_from_ops
from genelang.differentiable import (BilevelData, CostGrid, Position, Relaxation, RelaxedSearch, Schedule,
                                     Softmax, get_relaxation)
from genelang.differentiable.mixed import MixedOp
from genelang.runtime.config import TaskConfig
from genelang.runtime.cost_table import Cost

TASK = TaskConfig("digits", subset=128, batch_size=16)
TINY = dict(C=4, N=1, batch_size=16)


def digits_halves() -> BilevelData:
    from genelang.differentiable.data import bilevel_data
    return bilevel_data(TASK)


def nb201_search(out_dir, method=None, progress=None, epochs: int = 4, hardware=None, **schedule) -> RelaxedSearch:
    torch.set_num_threads(1)
    return RelaxedSearch(get_relaxation("nb201"), method or Softmax(),
                         Schedule(epochs=epochs, seed=3, **(TINY | schedule)), digits_halves(), out_dir,
                         progress=progress, hardware=hardware)


class _Const(nn.Module):
    def forward(self, x):
        return torch.ones_like(x)


class _Zero(nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


class PlantedNetwork(nn.Module):
    """x → mixed op over (none, const, keep) → linear: only `keep` passes the
    label's information on, so the validation loss falls as α moves to it."""

    def __init__(self, method, C: int, num_classes: int):
        super().__init__()
        self.mixed = MixedOp([_Zero(), _Const(), nn.Identity()], method.partial)
        self.fc = nn.Linear(C, num_classes)

    def forward(self, x, sample):
        return self.fc(self.mixed(x, sample.weights[0], sample.chosen[0]).flatten(1))


class PlantedRelaxation(Relaxation):
    """One position, three choices; a user's relaxation in a dozen lines (its
    genomes borrow nb201's text: only their derivation is tested)."""
    space = "planted"
    positions = (Position("p", ("none", "const", "keep")),)
    groups = ((0,),)
    parameter_free = frozenset({"none", "const", "keep"})
    skip = frozenset({"keep"})
    NB201 = {"none": "none", "const": "avg_pool_3x3", "keep": "skip_connect"}

    def network(self, method, *, C, N, num_classes, in_channels):
        return PlantedNetwork(method, in_channels, num_classes)

    def genome(self, indices, name="derived"):
        return genome_from_ops([self.NB201[self.positions[0].choices[indices[0]]]] * 6, name)

    def costs(self, *, num_classes, input_shape):
        return CostGrid(Cost(), ((Cost(), Cost(), Cost()),))


def planted_data(n: int = 512, C: int = 8, seed: int = 0) -> BilevelData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, C, 1, 1, generator=g)
    y = x[:, :4, 0, 0].argmax(1)          # a linear function of the input decides the class
    return BilevelData((x[: n // 2], y[: n // 2]), (x[n // 2:], y[n // 2:]), 4)


def _slowly(step, total, loss):
    time.sleep(0.1)      # the parent kills us between epochs


if __name__ == "__main__":
    nb201_search(sys.argv[1], progress=_slowly, epochs=int(sys.argv[2])).run()
