"""One entry point from a genome to a module, whatever its space, with an
example input — what the exporters and `genelang compile` need. Each space
names its network builder (`Space.network`); the built-in ones are below."""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.registry import get_space
from genelang.errors import GenelangError
from genelang.runtime.config import ModelConfig


def build_model(genome: Genome, model: ModelConfig = ModelConfig(), *, num_classes: int = 10,
                input_shape: tuple[int, ...] | None = None) -> tuple[nn.Module, torch.Tensor]:
    """(module in eval mode, an example input batch of 2). `input_shape` has the
    dimensions the space reads (`Space.input_layout`: C,H,W for conv genomes,
    T,F — steps, features — for rnn genomes); default `Space.example_input`."""
    space = get_space(genome.space)
    shape = tuple(input_shape) if input_shape is not None else space.example_input
    if len(shape) != len(space.input_layout):
        raise ValueError(f"{space.name} input shape is {','.join(space.input_layout)}, got {shape}")
    return space_network(genome, model, num_classes=num_classes, input_shape=shape).eval(), torch.randn(2, *shape)


def space_network(genome: Genome, model: ModelConfig, *, num_classes: int,
                  input_shape: tuple[int, ...]) -> nn.Module:
    """The genome's network as its space builds it, on the skeleton `model` asks
    for (a located error for one the space does not build)."""
    space = get_space(genome.space)
    try:
        space.resolve_skeleton(model.skeleton)
    except LookupError as e:
        raise GenelangError.at("skeleton", f"{space.name} genomes do not build on skeleton {model.skeleton!r}",
                               "--skeleton", hint=str(e)) from None
    return space.builder("network")(genome, model, num_classes=num_classes, input_shape=tuple(input_shape))


def conv_network(genome: Genome, model: ModelConfig, *, num_classes: int,
                 input_shape: tuple[int, ...]) -> nn.Module:
    from genelang.runtime.networks import build_network
    skeleton = get_space(genome.space).resolve_skeleton(model.skeleton)
    return build_network(genome, skeleton, C=model.C, N=model.N, layers=model.layers, num_classes=num_classes,
                         in_channels=input_shape[0], auxiliary=model.auxiliary, drop_path=model.drop_path)


def rnn_network(genome: Genome, model: ModelConfig, *, num_classes: int,
                input_shape: tuple[int, ...]) -> nn.Module:
    """The recurrent layer alone (its output is the first state at every step)."""
    from genelang.compiler.lower_rnn import RecurrentLayer, lower_rnn_cell
    return RecurrentLayer(lower_rnn_cell(genome, input_shape[1], model.hidden))


def nb201_network(genome: Genome, model: ModelConfig, *, num_classes: int,
                  input_shape: tuple[int, ...]) -> nn.Module:
    """NAS-Bench-201's own network; its shape is fixed (the model options do not apply)."""
    from genelang.runtime.nb201_network import NB201Network
    return NB201Network(genome, num_classes, input_shape[0])
