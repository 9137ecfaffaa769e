"""A chain network's plan on a skeleton: every layer's channels, stride and
input resolution, at the width multiplier `ModelConfig.C / 16`. The network,
the cost model, the supernet and the latency table all read this one plan."""
from __future__ import annotations

from dataclasses import dataclass

from genelang.compiler.chain_space import ChainSpace
from genelang.compiler.registry import get_space
from genelang.runtime.chain.family import scaled

BASE_C = 16   # ModelConfig.C of the published widths (multiplier 1)


@dataclass(frozen=True)
class LayerPlan:
    position: int                # the layer's index in the network, input first
    stage: str
    c_in: int
    c_out: int
    stride: int
    hw: tuple[int, int]          # its input's resolution
    choices: tuple[str, ...]     # the blocks it may hold


@dataclass(frozen=True)
class Plan:
    space: str
    skeleton: str
    mult: float
    in_channels: int
    input_hw: tuple[int, int]
    stem_out: int
    stem_stride: int
    layers: tuple[LayerPlan, ...]
    head_out: int

    @property
    def head_in(self) -> int:
        return self.layers[-1].c_out

    @property
    def final_hw(self) -> tuple[int, int]:
        last = self.layers[-1]
        return _down(last.hw, last.stride)


def _down(hw: tuple[int, int], stride: int) -> tuple[int, int]:
    return tuple((d - 1) // stride + 1 for d in hw)   # a k×k conv, padding k // 2


def plan_of(space_name: str, model, input_shape: tuple[int, ...]) -> Plan:
    space: ChainSpace = get_space(space_name)
    skeleton = space.layout.skeleton(space.resolve_skeleton(model.skeleton))
    mult = model.C / BASE_C
    hw = _down(tuple(input_shape[1:]), skeleton.stem_stride)
    layers = []
    for i, ly in enumerate(space.layout.layers()):
        stage = space.layout.stages[ly.stage].name
        stride = 1 if ly.index == 0 and stage in skeleton.unstrided else ly.stride
        layers.append(LayerPlan(i, stage, scaled(ly.c_in, mult), scaled(ly.c_out, mult), stride, hw,
                                space.choices(ly)))
        hw = _down(hw, stride)
    return Plan(space.name, skeleton.name, mult, input_shape[0], tuple(input_shape[1:]),
                scaled(space.layout.stem, mult), skeleton.stem_stride, tuple(layers),
                scaled(space.layout.head, mult))
