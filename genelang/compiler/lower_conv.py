"""Lowering a conv genome's cell to a `torch.fx.GraphModule`.

The cell's steps (`conv_plan.cell_plan`) become straight-line code: every ADF
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

from genelang.compiler.ast import Genome
from genelang.compiler.conv_ops import FactorizedReduce, ReLUConvBN
from genelang.compiler.conv_plan import CellPlan, Step, cat_leaves, cell_plan
from genelang.compiler.dag import Renderer
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
    """Turns a cell plan's steps into fx nodes over modules named by `Step.name`."""

    def __init__(self, spec: CellSpec, plan: CellPlan):
        self.spec = spec
        self.root = nn.Module()
        self.graph = fx.Graph()
        self.blocks: dict[str, str] = {}      # op module name -> what it computes
        # what a node computes, ADFs written out: the same text in two genomes means
        # the same block on the same inputs (the key of weight inheritance)
        self.expand = Renderer(plan.adfs)

    def module(self, name: str, mod: nn.Module, *args: fx.Node) -> fx.Node:
        self.root.add_module(name, mod)
        return self.graph.call_module(name, args)

    def build(self, st: Step) -> nn.Module:
        spec, C = self.spec, self.spec.C
        if st.kind == "pre0":
            return preprocess0(spec.C_prev_prev, C, spec.reduction_prev, spec.affine)
        if st.kind == "pre1":
            return preprocess1(spec.C_prev, C, spec.affine)
        if st.kind == "cat":
            return cat_projection(len(st.args), C, spec.affine)
        return get_op(CONV, st.symbol).builder(C, st.stride, spec.affine)

    def step(self, st: Step, args: list[fx.Node], mod: nn.Module | None) -> fx.Node:
        if st.kind in ("pre0", "pre1"):
            return self.module(st.name, mod, *args)
        if st.kind == "add":
            return self.graph.call_function(operator.add, tuple(args))
        if st.kind == "cat":
            out = self.graph.call_function(torch.cat, (args, 1))
            return out if not st.project else self.module(st.name, mod, out)
        out = self.module(st.name, mod, *args)
        self.blocks[st.name] = self.expand(st.node)
        if self.spec.drop_path and not isinstance(mod, nn.Identity):
            out = self.module(f"{st.gene}_{st.index}_drop", DropPath(), out)
        return out


def _creation_order(plan: CellPlan) -> list[Step]:
    """The steps with modules, in the order their modules are made: an operation
    before its operands, a cat's projection after them (the order genelang has
    always drawn initial weights in, so a seed gives the same network as before)."""
    by_node = {id(st.node): st for st in plan.steps if st.node is not None}
    order = [st for st in plan.steps if st.kind in ("pre0", "pre1")]

    def visit(node) -> None:
        if not node.children:
            return
        st = by_node[id(node)]
        if node.symbol == "cat":
            for leaf in cat_leaves(node):
                visit(leaf)
            order.extend([st] if st.project else [])
            return
        order.extend([st] if node.symbol != "add" else [])
        for c in node.children:
            visit(c)

    for tree in plan.adfs.values():
        visit(tree)
    if plan.out >= 2 and plan.steps[plan.out - 2].node is not None:
        root = plan.steps[plan.out - 2]
        if root.gene not in plan.adfs:
            visit(root.node)
    return order


def preprocess0(C_in: int, C: int, reduction_prev: bool, affine: bool = True) -> nn.Module:
    """How a cell reads h2: halved to match h1 when the cell before it reduced."""
    return FactorizedReduce(C_in, C, affine) if reduction_prev else ReLUConvBN(C_in, C, 1, 1, 0, affine)


def preprocess1(C_in: int, C: int, affine: bool = True) -> nn.Module:
    return ReLUConvBN(C_in, C, 1, 1, 0, affine)


def cat_projection(leaves: int, C: int, affine: bool = True) -> nn.Module:
    """A cat that is not a cell's output goes back to C channels."""
    return ReLUConvBN(leaves * C, C, 1, 1, 0, affine)


def lower_cell(genome: Genome, cell: str, spec: CellSpec) -> tuple[fx.GraphModule, int]:
    """The cell as a GraphModule `forward(s0, s1)` (s0 = h2, s1 = h1) and its
    output multiplier (output channels = multiplier · C)."""
    plan = cell_plan(genome, cell, spec.reduction)
    e = _Emitter(spec, plan)
    slots = [e.graph.placeholder("s0"), e.graph.placeholder("s1")]
    mods = {id(st): e.build(st) for st in _creation_order(plan)}
    for st in plan.steps:
        slots.append(e.step(st, [slots[a] for a in st.args], mods.get(id(st))))
    e.graph.output(slots[plan.out])
    gm = fx.GraphModule(e.root, e.graph, class_name=f"{cell.capitalize()}Cell")
    gm.meta["blocks"] = e.blocks
    return gm, plan.multiplier


def set_drop_path(module: nn.Module, p: float) -> None:
    for m in module.modules():
        if isinstance(m, DropPath):
            m.p = p
