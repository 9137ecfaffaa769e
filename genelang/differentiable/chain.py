"""The chain spaces (ProxylessNAS, FBNet, SPOS: `compiler/chain_space.py`)
relaxed: one position per searchable layer, its choices the layer's blocks
(and `skip` where the layer keeps its shape), as ProxylessNAS's and FBNet's
own supernets do. The mixed network is the space's network on the spec's
skeleton at the width the strategy's `C` asks for (the multiplier C/16, as
`model.C` is), built from the chain runtime's plan and blocks
(`runtime/chain`): stem, one `MixedOp` per layer over its blocks, head. The
derived genome builds the spec's own network (`model.skeleton`, `model.C`),
so its parameters, multiply-adds and latency table entries are that network's.

PC-DARTS's partial channels are refused (`partial_channels_refused`): a
1/k channel sample has to bypass the op, and most chain layers change width
or stride, which no bypass can follow."""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Sequence

import torch
from torch import nn

from genelang.compiler.chain_space import ChainSpace, chain_genome
from genelang.compiler.registry import get_space, spaces
from genelang.differentiable.mixed import MixedOp
from genelang.differentiable.relaxation import ArchSample, CostGrid, EntryGrid, Position, Relaxation, RelaxedNetwork
from genelang.runtime.chain.costs import chain_table
from genelang.runtime.chain.family import family
from genelang.runtime.chain.latency import latency_model
from genelang.runtime.chain.network import (ChainNet, assemble, make_classifier, make_head, make_layer, make_stem,
                                            pooled_head)
from genelang.runtime.chain.plan import Plan, plan_of
from genelang.runtime.cost_table import Cost


class MixedChainNetwork(RelaxedNetwork):
    def __init__(self, plan: Plan, num_classes: int):
        super().__init__()
        fam = family(plan.space)
        self.plan = plan
        self.stem = make_stem(fam, plan)
        self.layers = nn.ModuleList(MixedOp([make_layer(fam, ly, s) for s in ly.choices]) for ly in plan.layers)
        self.head = pooled_head(make_head(fam, plan), make_classifier(fam, plan, num_classes))

    def forward(self, x: torch.Tensor, sample: ArchSample) -> torch.Tensor:
        x = self.stem(x)
        for p, layer in enumerate(self.layers):
            x = layer(x, sample.weights[p], sample.chosen[p])
        return self.head(x)

    def path(self, indices: Sequence[int]) -> ChainNet:
        """The derived genome's network over these very modules (shared weights)."""
        blocks = [layer.ops[i] for layer, i in zip(self.layers, indices)]
        return assemble(self.plan, blocks, self.stem, self.head[0], self.head[-1])


class ChainRelaxation(Relaxation):
    partial_channels_refused = (
        "a chain layer's blocks change width or stride (an MBConv's or ShuffleNet unit's first layer of a stage), "
        "so a 1/k channel sample has no way around them; use darts or gdas (gdas runs one block per layer)")
    has_latency_entries = True

    def __init__(self, space: str, model=None):
        from genelang.runtime.config import ModelConfig
        self._space: ChainSpace = get_space(space)
        self.space, self.model = space, model or ModelConfig()
        self.positions = tuple(Position(f"{self._space.layout.stages[ly.stage].name}.{ly.index + 1}",
                                        self._space.choices(ly)) for ly in self._space.layout.layers())
        self.groups = tuple((p,) for p in range(len(self.positions)))   # each layer reads one input
        self.parameter_free = self.skip = frozenset({self._space.skip} - {None})

    def bind(self, model) -> "ChainRelaxation":
        return ChainRelaxation(self.space, model)

    def network(self, method, *, C, N, num_classes, in_channels):
        """`C`: the width (multiplier C/16); `N` is NB201's and means nothing here
        (a chain's layer counts are its space's)."""
        if method.partial != 1:
            raise ValueError(f"{self.space}: {self.partial_channels_refused}")
        # the blocks do not depend on the resolution: the skeleton's own stands in for the task's
        size = self._space.layout.skeleton(self._space.resolve_skeleton(self.model.skeleton)).resolution
        return MixedChainNetwork(plan_of(self.space, replace(self.model, C=C), (in_channels, size, size)),
                                 num_classes)

    def genome(self, indices: Sequence[int], name: str = "derived"):
        return chain_genome(self._space, [pos.choices[i] for pos, i in zip(self.positions, indices)], name)

    def costs(self, *, num_classes, input_shape):
        table = chain_table(self.space, self.model.skeleton, self.model.C, num_classes, tuple(input_shape))
        return CostGrid(Cost(table.fixed.params, table.fixed.macs),
                        tuple(tuple(Cost(row[s].params, row[s].macs) for s in pos.choices)
                              for row, pos in zip(table.rows, self.positions)))

    def latency_entries(self, *, num_classes, input_shape):
        lat = latency_model(self.space, self.model, num_classes, tuple(input_shape))
        return EntryGrid((lat.stem(), lat.head()),
                         tuple(tuple(lat.layer(ly, s) for s in ly.choices) for ly in lat.plan.layers))


def __getattr__(name: str):
    """`genelang.differentiable.chain:<space>`, the relaxation hook `register_chain`
    gives every chain space (a user's too): the factory of that space's relaxation."""
    if isinstance(spaces().get(name), ChainSpace):
        return partial(ChainRelaxation, name)
    raise AttributeError(name)
