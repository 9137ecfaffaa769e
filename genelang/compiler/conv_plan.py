"""What a conv cell is made of, read off its DAG without building it: its
operation blocks with their strides, its cat projections, the inputs it reads
and its output multiplier. Lowering (`lower_conv`) builds exactly these blocks
by the same rules; the runtime's cost table prices them, so a genome's cost
is a sum over this plan."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.conv_space import CONV_INPUTS, reads_input
from genelang.compiler.dag import MainGraph, expression, main_graph

LINK_ADD, LINK_CAT = "add", "cat"


@dataclass(frozen=True)
class CellPlan:
    ops: Counter             # (symbol, stride) -> how many operation blocks
    projections: Counter     # operands of a cat that is not the cell's root -> how many 1×1 projections
    reads: frozenset[str]    # the cell inputs read (h1, h2): only those are preprocessed
    multiplier: int          # output channels / C: the operands of a root cat, else 1


def cat_leaves(node: karva.Node) -> list[karva.Node]:
    """Operands of a tree of nested cats, left to right (concatenation is associative)."""
    if node.symbol != LINK_CAT:
        return [node]
    return [leaf for c in node.children for leaf in cat_leaves(c)]


def reads(graph: MainGraph, name: str) -> bool:
    """Whether the cell (its root or an ADF it reaches) reads the terminal `name`."""
    trees = [graph.root, *(t for _, t in graph.adfs)]
    return any(n.symbol == name for t in trees for n in t.walk())


def op_stride(node: karva.Node, trees: dict[str, karva.Node], reduction: bool) -> int:
    """An operation strides where a reduction cell's op reads a cell input
    (user ops may take several operands)."""
    return 2 if reduction and any(reads_input(c, trees) for c in node.children) else 1


def multiplier(genome: Genome, cell: str) -> int:
    """The cell's output channels / C: the operands of a root cat, else 1."""
    return len(cat_leaves(expression(genome, genome.gene(cell))))


def cell_plan(genome: Genome, cell: str, reduction: bool) -> CellPlan:
    dag = main_graph(genome, cell)
    trees = dict(dag.adfs)
    ops: Counter = Counter()
    projections: Counter = Counter()

    def walk(node: karva.Node) -> None:
        if not node.children:     # an input, or an ADF: its node is walked once, below
            return
        if node.symbol == LINK_CAT:
            leaves = cat_leaves(node)
            projections[len(leaves)] += 1
            for leaf in leaves:
                walk(leaf)
            return
        if node.symbol != LINK_ADD:
            ops[node.symbol, op_stride(node, trees, reduction)] += 1
        for c in node.children:
            walk(c)

    for _, tree in dag.adfs:
        walk(tree)
    roots = cat_leaves(dag.root)   # a root cat is the cell's output: concatenated, never projected
    for leaf in roots:
        walk(leaf)
    used = frozenset(name for name in CONV_INPUTS if reads(dag, name))
    return CellPlan(ops, projections, used, len(roots))
