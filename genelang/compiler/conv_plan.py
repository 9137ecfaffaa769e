"""A conv cell as straight-line steps over slots: what the cell computes, in
order, without modules. The lowering (`lower_conv`) turns the steps into an fx
graph; the supernet (`runtime/supernet`) runs them eagerly over its shared
blocks; the cost table (`runtime/cost_table`) prices them. All follow
docs/semantics.md through this one decoding.

Slots 0 and 1 are the raw cell inputs s0 (h2's source) and s1 (h1's); step k
writes slot k + 2.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.conv_space import reads_input
from genelang.compiler.dag import MainGraph, expression, main_graph

LINK_ADD, LINK_CAT = "add", "cat"
StepKind = Literal["pre0", "pre1", "op", "add", "cat"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    args: tuple[int, ...]           # the slots it reads
    gene: str = ""                  # the gene the node belongs to (op, cat)
    index: int = -1                 # its position in the gene's Karva symbols
    symbol: str = ""
    stride: int = 1                 # op: 2 where a reduction cell's op reads a cell input
    project: bool = False           # cat: followed by a 1×1 projection back to C
    node: karva.Node | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The module's name in the lowered cell ('' for steps without one)."""
        if self.kind in ("pre0", "pre1"):
            return f"preprocess{self.kind[-1]}"
        if self.kind == "op":
            return f"{self.gene}_{self.index}_{self.symbol}"
        return f"{self.gene}_{self.index}_project" if self.project else ""


@dataclass(frozen=True)
class CellPlan:
    steps: tuple[Step, ...]
    out: int                        # the slot holding the cell's output
    multiplier: int                 # output channels = multiplier · C (the root cat's leaves)
    adfs: dict[str, karva.Node] = field(compare=False, repr=False)

    @property
    def ops(self) -> Counter:
        """(symbol, stride) -> how many operation blocks (what the cell's cost sums over)."""
        return Counter((st.symbol, st.stride) for st in self.steps if st.kind == "op")

    @property
    def projections(self) -> Counter:
        """Operands of each projected cat -> how many."""
        return Counter(len(st.args) for st in self.steps if st.kind == "cat" and st.project)

    @property
    def reads(self) -> frozenset[str]:
        """The cell inputs it reads (only those are preprocessed)."""
        return frozenset({"pre0": "h2", "pre1": "h1"}[st.kind] for st in self.steps if st.kind in ("pre0", "pre1"))


def multiplier(genome: Genome, cell: str) -> int:
    """The cell's output channels / C, without planning the whole cell."""
    return len(cat_leaves(expression(genome, genome.gene(cell))))


def cat_leaves(node: karva.Node) -> list[karva.Node]:
    """Operands of a tree of nested cats, left to right (concatenation is associative)."""
    if node.symbol != "cat":
        return [node]
    return [leaf for c in node.children for leaf in cat_leaves(c)]


def _reads(graph: MainGraph, name: str) -> bool:
    trees = [graph.root, *(t for _, t in graph.adfs)]
    return any(n.symbol == name for t in trees for n in t.walk())


class _Planner:
    def __init__(self, trees: dict[str, karva.Node], reduction: bool):
        self.trees, self.reduction = trees, reduction
        self.steps: list[Step] = []
        self.env: dict[str, int] = {}

    def push(self, step: Step) -> int:
        self.steps.append(step)
        return len(self.steps) + 1

    def emit(self, where: str, node: karva.Node) -> int:
        sym = node.symbol
        if not node.children:
            return self.env[sym]
        if sym == "cat":
            args = tuple(self.emit(where, c) for c in cat_leaves(node))
            return self.push(Step("cat", args, where, node.index, sym, project=True, node=node))
        args = tuple(self.emit(where, c) for c in node.children)
        if sym == "add":
            return self.push(Step("add", args, where, node.index, sym, node=node))
        # an operation strides where it reads a cell input (user ops may take several operands)
        stride = 2 if self.reduction and any(reads_input(c, self.trees) for c in node.children) else 1
        return self.push(Step("op", args, where, node.index, sym, stride, node=node))


def cell_plan(genome: Genome, cell: str, reduction: bool) -> CellPlan:
    """The steps of main program `cell`, ADFs computed once each in dependency
    order; inputs a cell never reads get no preprocessing step."""
    dag = main_graph(genome, cell)
    p = _Planner(dict(dag.adfs), reduction)
    if _reads(dag, "h2"):
        p.env["h2"] = p.push(Step("pre0", (0,)))
    if _reads(dag, "h1"):
        p.env["h1"] = p.push(Step("pre1", (1,)))
    for name, tree in dag.adfs:
        p.env[name] = p.emit(name, tree)
    root = dag.root
    if root.symbol == "cat":   # the root cat tree is the cell's output, not projected
        leaves = cat_leaves(root)
        args = tuple(p.emit(cell, c) for c in leaves)
        out = p.push(Step("cat", args, cell, root.index, "cat", node=root))
        return CellPlan(tuple(p.steps), out, len(leaves), p.trees)
    out = p.emit(cell, root)
    return CellPlan(tuple(p.steps), out, 1, p.trees)
