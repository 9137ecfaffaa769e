"""Lowering a conv genome's cell to a `torch.fx.GraphModule`.

The cell's DAG (from `dag.main_graph`) becomes straight-line code: every ADF
node is computed once, in dependency order, with its own modules. The rules
(preprocessing, strides, cat flattening and projection, drop-path) are those
of docs/semantics.md. The result prints as Python (`cell.code`), scripts with
TorchScript and exports with `torch.export`.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
from torch import fx, nn

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.conv_ops import FactorizedReduce, ReLUConvBN
from genelang.compiler.conv_plan import LINK_ADD, LINK_CAT, cat_leaves, op_stride, reads
from genelang.compiler.dag import Renderer, main_graph
from genelang.compiler.opsets import CONV
from genelang.compiler.registry import get_op


class DropPath(nn.Module):
    """DARTS's drop-path: zero a whole sample's branch with probability p (training only)."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.p > 0.0:
            keep = 1.0 - self.p
            mask = torch.empty(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device).bernoulli_(keep)
            return x / keep * mask
        return x


@dataclass(frozen=True)
class CellSpec:
    C_prev_prev: int
    C_prev: int
    C: int
    reduction: bool
    reduction_prev: bool
    drop_path: bool = False      # insert DropPath modules (their p is set at train time)
    affine: bool = True


class _Emitter:
    def __init__(self, genome: Genome, cell: str, spec: CellSpec, trees: dict[str, karva.Node]):
        self.genome, self.cell, self.spec = genome, cell, spec
        self.trees = trees
        self.root = nn.Module()
        self.graph = fx.Graph()
        self.env: dict[str, fx.Node] = {}
        self.blocks: dict[str, str] = {}      # op module name -> what it computes
        # what a node computes, ADFs written out: the same text in two genomes means
        # the same block on the same inputs (the key of weight inheritance)
        self.expand = Renderer(trees)

    def module(self, name: str, mod: nn.Module, *args: fx.Node) -> fx.Node:
        self.root.add_module(name, mod)
        return self.graph.call_module(name, args)

    def emit(self, where: str, node: karva.Node) -> fx.Node:
        sym = node.symbol
        if not node.children:
            return self.env[sym]
        if sym == LINK_ADD:
            a, b = (self.emit(where, c) for c in node.children)
            return self.graph.call_function(operator.add, (a, b))
        if sym == LINK_CAT:
            leaves = cat_leaves(node)
            out = self.graph.call_function(torch.cat, ([self.emit(where, c) for c in leaves], 1))
            return self.module(f"{where}_{node.index}_project",
                               cat_projection(len(leaves), self.spec.C, self.spec.affine), out)
        stride = op_stride(node, self.trees, self.spec.reduction)
        op = get_op(CONV, sym).builder(self.spec.C, stride, self.spec.affine)
        name = f"{where}_{node.index}_{sym}"
        out = self.module(name, op, *(self.emit(where, c) for c in node.children))
        self.blocks[name] = self.expand(node)
        if self.spec.drop_path and not isinstance(op, nn.Identity):
            out = self.module(f"{where}_{node.index}_drop", DropPath(), out)
        return out


def cat_projection(leaves: int, C: int, affine: bool = True) -> nn.Module:
    """The 1×1 block bringing a cat of `leaves` operands back to C channels."""
    return ReLUConvBN(leaves * C, C, 1, 1, 0, affine)


def preprocess0(spec: CellSpec) -> nn.Module:
    """h2 to C channels, at half size after a reduction cell (h2 is then one size larger than h1)."""
    if spec.reduction_prev:
        return FactorizedReduce(spec.C_prev_prev, spec.C, spec.affine)
    return ReLUConvBN(spec.C_prev_prev, spec.C, 1, 1, 0, spec.affine)


def preprocess1(spec: CellSpec) -> nn.Module:
    return ReLUConvBN(spec.C_prev, spec.C, 1, 1, 0, spec.affine)


def lower_cell(genome: Genome, cell: str, spec: CellSpec) -> tuple[fx.GraphModule, int]:
    """The cell as a GraphModule `forward(s0, s1)` (s0 = h2, s1 = h1) and its
    output multiplier (output channels = multiplier · C)."""
    dag = main_graph(genome, cell)
    e = _Emitter(genome, cell, spec, dict(dag.adfs))
    s0 = e.graph.placeholder("s0")
    s1 = e.graph.placeholder("s1")
    # Inputs a cell never reads get no preprocessing (no dead parameters).
    if reads(dag, "h2"):
        e.env["h2"] = e.module("preprocess0", preprocess0(spec), s0)
    if reads(dag, "h1"):
        e.env["h1"] = e.module("preprocess1", preprocess1(spec), s1)
    for name, tree in dag.adfs:
        e.env[name] = e.emit(name, tree)
    root = dag.root
    if root.symbol == LINK_CAT:
        leaves = cat_leaves(root)
        out = e.graph.call_function(torch.cat, ([e.emit(cell, c) for c in leaves], 1))
        multiplier = len(leaves)
    else:
        out = e.emit(cell, root)
        multiplier = 1
    e.graph.output(out)
    gm = fx.GraphModule(e.root, e.graph, class_name=f"{cell.capitalize()}Cell")
    gm.meta["blocks"] = e.blocks
    return gm, multiplier


def set_drop_path(module: nn.Module, p: float) -> None:
    for m in module.modules():
        if isinstance(m, DropPath):
            m.p = p
