"""One entry point from a genome to a module, whatever its space, with an
example input — what the exporters and `genelang compile` need."""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.runtime.config import ModelConfig


def build_model(genome: Genome, model: ModelConfig = ModelConfig(), *, num_classes: int = 10,
                input_shape: tuple[int, ...] = (3, 32, 32)) -> tuple[nn.Module, torch.Tensor]:
    """(module in eval mode, an example input batch of 2). `input_shape` is
    C,H,W for conv genomes and T,F (steps, features) for rnn genomes."""
    if genome.space != "rnn":
        from genelang.runtime.networks import build_network
        if len(input_shape) != 3:
            raise ValueError("conv input shape is C,H,W")
        net = build_network(genome, model.skeleton, C=model.C, N=model.N, layers=model.layers,
                            num_classes=num_classes, in_channels=input_shape[0], auxiliary=model.auxiliary)
    else:
        from genelang.compiler.lower_rnn import RecurrentLayer, lower_rnn_cell
        if len(input_shape) != 2:
            raise ValueError("rnn input shape is T,F (steps, features)")
        net = RecurrentLayer(lower_rnn_cell(genome, input_shape[1], model.hidden))
    return net.eval(), torch.randn(2, *input_shape)
