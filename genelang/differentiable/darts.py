"""DARTS's cell space relaxed, as DARTS's own search does it (quark0/darts
`model_search.py`): a mixed operation over the eight DARTS ops on each of the
14 (node, input) edges of a cell, one α row per edge shared by every normal
cell and one by every reduction cell (28 positions); groups are the edges into
one node (PC-DARTS's edge normalisation).

The mixed network is DARTS's search network: stem to 3C, cells with
reductions at layers//3 and 2·layers//3 where layers = 3N + 2 (N = 2: DARTS's
8 cells), every node the sum of its mixed edges, a cell the concatenation of
its four nodes, global pooling, a linear classifier. Ops and preprocessing are
the ones the derived genome builds (`compiler/conv_ops.py`, `lower_conv.py`)
with BatchNorm's affine parameters off, as in DARTS's search; unlike DARTS's
search, pools get no extra BatchNorm, so α one-hot on a genome's edges (`none`
elsewhere) computes exactly what the genome's own network computes with the
same weights.

Derivation is DARTS's rule: per node the two incoming edges whose strongest
op other than `none` weighs most, each with that op (with edge normalisation
the edge's weights are first scaled by its softmax(β), as PC-DARTS's
`genotype()` does). That pair maximises the product of the two chosen ops'
weights, so the k best genomes are the k best products, node by node
(`most_probable` over each node's (pair of edges, op, op) candidates).

Costs are the derived cell's in DARTS's CIFAR evaluation network (C = 36,
20 cells, no auxiliary head: DARTS_V2's 3.3M parameters) at the task's image
size, as `genelang compile --to summary` counts them."""
from __future__ import annotations

import itertools
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from genelang.compiler.ast import Gene, Genome
from genelang.compiler.darts_space import (CELL_GENES, CELLS, DARTS, EDGES, INPUTS, NODES, OPS, Edge,
                                           genome_from_edges, node_name)
from genelang.compiler.lower_conv import CellSpec, preprocess0, preprocess1
from genelang.compiler.registry import get_op
from genelang.differentiable.architecture import Architecture
from genelang.differentiable.mixed import MixedOp
from genelang.differentiable.relaxation import (ArchSample, CostGrid, Position, Relaxation, RelaxedNetwork,
                                                most_probable)
from genelang.runtime.config import ModelConfig
from genelang.runtime.cost_table import Cost, cost_table
from genelang.runtime.networks import cell_specs, layout, make_stem

# the network a derived genome's costs are priced in: DARTS's CIFAR-10 evaluation network
PRICED = ModelConfig("darts", C=36, layers=20)
NONE = OPS.index("none")


def search_layers(N: int) -> int:
    """Cells of the search network with N normal cells per stage (N = 2: DARTS's 8)."""
    return 3 * N + 2


def _slot(name: str, prefix: str) -> int:
    """A state's index in a cell: h2 0, h1 1, node k at k."""
    return INPUTS.index(name) if name in INPUTS else int(name[len(prefix):])


class MixedDartsCell(nn.Module):
    def __init__(self, spec: CellSpec, partial: int):
        super().__init__()
        cell, prefix = CELLS[spec.reduction]
        self.preprocess0 = preprocess0(spec.C_prev_prev, spec.C, spec.reduction_prev, affine=False)
        self.preprocess1 = preprocess1(spec.C_prev, spec.C, affine=False)
        self.positions = [p for p, e in enumerate(EDGES) if e.cell == cell]
        mine = [EDGES[p] for p in self.positions]
        self.reads = [_slot(e.input, prefix) for e in mine]
        self.into = [int(e.node[len(prefix):]) for e in mine]
        self.edges = nn.ModuleList(self._edge(e, spec, partial) for e in mine)

    @staticmethod
    def _edge(e: Edge, spec: CellSpec, partial: int) -> MixedOp:
        stride = 2 if spec.reduction and e.reads_cell_input else 1
        ops = [get_op(DARTS, o).builder(spec.C // partial, stride, False) for o in OPS]
        # PC-DARTS: the channels the ops skip are halved too where the ops stride
        bypass = nn.MaxPool2d(2, 2, ceil_mode=True) if stride == 2 and partial > 1 else None
        return MixedOp(ops, partial, bypass)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, s: ArchSample) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in NODES:
            total = 0
            for p, edge, j, to in zip(self.positions, self.edges, self.reads, self.into):
                if to == k:
                    out = edge(states[j], s.weights[p], s.chosen[p])
                    total = total + (out if s.scales[p] is None else s.scales[p] * out)
            states.append(total)
        return torch.cat(states[len(INPUTS):], dim=1)


class MixedDartsNetwork(RelaxedNetwork):
    def __init__(self, partial: int, *, C: int, N: int, num_classes: int, in_channels: int):
        super().__init__()
        lay = layout("darts", N=N, layers=search_layers(N))
        C_stem = lay.stem_multiplier * C
        self.stem = make_stem(in_channels, C_stem)
        specs = cell_specs(lay.plan, C_stem, C, {False: len(NODES), True: len(NODES)})
        self.cells = nn.ModuleList(MixedDartsCell(spec, partial) for spec in specs)
        self.classifier = nn.Linear(len(NODES) * specs[-1].C, num_classes)

    def forward(self, x: torch.Tensor, sample: ArchSample) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, sample)
        return self.classifier(s1.mean(dim=(2, 3)))


def _node_candidates(weights: Sequence[Sequence[float]], members: Sequence[int]):
    """A node's discrete choices, (score, {position: op}), score the product of
    the two chosen ops' weights; `none` is never chosen (DARTS)."""
    out = []
    for a, b in itertools.combinations(members, 2):
        for i, j in itertools.product(range(len(OPS)), repeat=2):
            if NONE not in (i, j):
                out.append((weights[a][i] * weights[b][j], {a: i, b: j}))
    return out


def _empty_genome() -> Genome:
    """Every node none(h2) + none(h1): what all genomes' networks share (stem, preprocessing, head)."""
    genes = [Gene("adf", node_name(p, k), ("add", "none", "none"), (*INPUTS, INPUTS[1], INPUTS[1]))
             for _, p in CELLS for k in NODES]
    genes += [Gene("cell", cell, *CELL_GENES[cell]) for cell, _ in CELLS]
    return Genome("empty", DARTS, tuple(genes))


class DartsRelaxation(Relaxation):
    space = DARTS
    positions = tuple(Position(e.name, OPS) for e in EDGES)
    groups = tuple(tuple(p for p, e in enumerate(EDGES) if e.node == node)
                   for node in dict.fromkeys(e.node for e in EDGES))
    parameter_free = frozenset({"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"})
    skip = frozenset({"skip_connect"})

    def network(self, method, *, C, N, num_classes, in_channels):
        return MixedDartsNetwork(method.partial, C=C, N=N, num_classes=num_classes, in_channels=in_channels)

    def genome(self, indices: Sequence[int], name: str = "derived") -> Genome:
        return genome_from_edges([OPS[i] for i in indices], name)

    def ranked(self, arch: Architecture, k: int) -> list[list[int]]:
        weights = [p.detach().cpu() for p in arch.probs()]
        for group, beta in zip(arch.groups, arch.beta):       # PC-DARTS: edges weighed by softmax(β)
            for member, b in zip(group, F.softmax(beta.detach().cpu(), dim=-1)):
                weights[member] = weights[member] * b
        w = [x.tolist() for x in weights]
        nodes = [_node_candidates(w, group) for group in self.groups]
        out = []
        for picks in most_probable([[score for score, _ in cands] for cands in nodes], k):
            indices = [NONE] * len(EDGES)
            for cands, i in zip(nodes, picks):
                for p, op in cands[i][1].items():
                    indices[p] = op
            out.append(indices)
        return out

    def shares(self, indices: Sequence[int]) -> dict[str, float]:
        """Collapse as DARTS's critics count it: over the normal cell's eight chosen edges."""
        picked = [OPS[i] for e, i in zip(EDGES, indices) if e.cell == "normal" and OPS[i] != "none"]
        n = max(1, len(picked))
        return {"skip_share": sum(c in self.skip for c in picked) / n,
                "param_free_share": sum(c in self.parameter_free for c in picked) / n}

    def costs(self, *, num_classes, input_shape):
        table = cost_table(PRICED, num_classes=num_classes, input_shape=tuple(input_shape),
                           functions=tuple(sorted({*OPS, "add", "cat"})), max_operands=len(NODES))
        grid = []
        for e in EDGES:
            cells = [c for c, red in zip(table.cells, table.plan) if CELLS[red][0] == e.cell]
            stride = 2 if e.cell == "reduction" and e.reads_cell_input else 1
            grid.append(tuple(sum((c.ops[o, stride] for c in cells), Cost()) for o in OPS))
        # `none` costs nothing (no parameters, no multiply-adds), so the empty genome is the base
        return CostGrid(table.cost(_empty_genome()), tuple(grid))
