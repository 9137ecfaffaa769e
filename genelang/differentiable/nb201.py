"""NAS-Bench-201 relaxed: six positions (the edges, in the benchmark's order
0→1, 0→2, 1→2, 0→3, 1→3, 2→3), five choices each (its `OPS`), α shared by
every cell of the network as in the benchmark's own DARTS/GDAS code; groups
are the edges into nodes 1, 2 and 3. The mixed network is NB201's
(`runtime/nb201_network.py`) with mixed cells: stem, N cells at C, a residual
reduction to 2C, N cells, one to 4C, N cells, head. The derived genome builds
NB201's fixed network (C=16, N=5), so the costs are that network's."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from genelang.compiler.nb201 import EDGES, NB201, OPS, genome_from_ops
from genelang.compiler.registry import get_op
from genelang.differentiable.mixed import MixedOp
from genelang.differentiable.relaxation import (ArchSample, CostGrid, Position, Relaxation, RelaxedNetwork)
from genelang.runtime.cost_table import Cost
from genelang.runtime.nb201_network import ResNetBasicBlock, cell_plan, make_head, make_stem
from genelang.runtime.summary import measure

# the network a derived nb201 genome builds (runtime.build.nb201_network): its size is fixed
BUILT_C, BUILT_N = 16, 5


def _op(name: str, C: int, affine: bool = True) -> nn.Module:
    import genelang.compiler.nb201_ops  # noqa: F401  (registers the builders)
    return get_op(NB201, name).builder(C, affine=affine)


class MixedCell(nn.Module):
    def __init__(self, C: int, partial: int, affine: bool):
        super().__init__()
        self.edges = nn.ModuleList(MixedOp([_op(o, C // partial, affine) for o in OPS], partial) for _ in EDGES)

    def forward(self, x: torch.Tensor, s: ArchSample) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            total = 0
            for k, (i, to) in enumerate(EDGES):
                if to == j:
                    out = self.edges[k](nodes[i], s.weights[k], s.chosen[k])
                    total = total + (out if s.scales[k] is None else s.scales[k] * out)
            nodes.append(total)
        return nodes[3]


class MixedNB201Network(RelaxedNetwork):
    def __init__(self, partial: int, *, C: int, N: int, num_classes: int, in_channels: int, affine: bool = True):
        super().__init__()
        self.stem = make_stem(in_channels, C)
        self.cells = nn.ModuleList(ResNetBasicBlock(c, 2 * c) if reduction else MixedCell(c, partial, affine)
                                   for c, reduction in cell_plan(C, N))
        self.head = make_head(4 * C)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward(self, x: torch.Tensor, sample: ArchSample) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x, sample) if isinstance(cell, MixedCell) else cell(x)
        return self.classifier(self.head(x).mean(dim=(2, 3)))


class NB201Relaxation(Relaxation):
    space = NB201
    positions = tuple(Position(f"e{i}{j}", OPS) for i, j in EDGES)
    groups = tuple(tuple(k for k, (_, to) in enumerate(EDGES) if to == j) for j in (1, 2, 3))
    parameter_free = frozenset({"none", "skip_connect", "avg_pool_3x3"})
    skip = frozenset({"skip_connect"})

    def __init__(self, affine: bool = True):
        self.affine = affine

    def network(self, method, *, C, N, num_classes, in_channels):
        return MixedNB201Network(method.partial, C=C, N=N, num_classes=num_classes, in_channels=in_channels,
                                 affine=self.affine)

    def genome(self, indices: Sequence[int], name: str = "derived"):
        return genome_from_ops((OPS[i] for i in indices), name)

    def costs(self, *, num_classes, input_shape):
        """Each edge's op priced in every cell of the built network, at that
        cell's channels and image size; the rest (stem, reductions, head) is the base."""
        stem, out = measure(make_stem(input_shape[0], BUILT_C), torch.zeros(1, *input_shape))
        base, per_op = Cost(stem.params, stem.macs), {o: Cost() for o in OPS}
        for c, reduction in cell_plan(BUILT_C, BUILT_N):
            if reduction:
                part, out = measure(ResNetBasicBlock(c, 2 * c), out)
                base += Cost(part.params, part.macs)
                continue
            for o in OPS:
                part, _ = measure(_op(o, c), out)
                per_op[o] += Cost(part.params, part.macs)
        head, feat = measure(make_head(out.shape[1]), out)
        fc, _ = measure(nn.Linear(out.shape[1], num_classes), feat.mean(dim=(2, 3)))
        base += Cost(head.params + fc.params, head.macs + fc.macs)
        return CostGrid(base, tuple(tuple(per_op[o] for o in OPS) for _ in EDGES))

