"""One entry point from a genome to a module, whatever its space, with an
example input — what the exporters and `genelang compile` need."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genelang.compiler.ast import Genome


@dataclass(frozen=True)
class BuildOptions:
    skeleton: str = "nasgep"
    C: int = 16
    N: int = 1
    layers: int = 8
    num_classes: int = 10
    input_shape: tuple[int, ...] = (3, 32, 32)   # conv: C,H,W ; rnn: T,F (dense sequence)
    hidden: int = 64
    auxiliary: bool = False


def build_model(genome: Genome, opts: BuildOptions = BuildOptions()) -> tuple[nn.Module, torch.Tensor]:
    """(module in eval mode, an example input batch of 2)."""
    if genome.space == "conv":
        from genelang.runtime.networks import build_network
        if len(opts.input_shape) != 3:
            raise ValueError("conv input shape is C,H,W")
        model = build_network(genome, opts.skeleton, C=opts.C, N=opts.N, layers=opts.layers,
                              num_classes=opts.num_classes, in_channels=opts.input_shape[0],
                              auxiliary=opts.auxiliary)
    else:
        from genelang.compiler.lower_rnn import RecurrentLayer, lower_rnn_cell
        if len(opts.input_shape) != 2:
            raise ValueError("rnn input shape is T,F (steps, features)")
        model = RecurrentLayer(lower_rnn_cell(genome, opts.input_shape[1], opts.hidden))
    return model.eval(), torch.randn(2, *opts.input_shape)
