"""DARTS's own cell search space (Liu, Simonyan & Yang 2019) in the language.

A genome is a normal and a reduction cell. Each cell has the inputs `h2`
(cell k−2) and `h1` (cell k−1) and four intermediate nodes; node k sums two
(operation, input) pairs, each input one of the cell's inputs or an earlier
node of the same cell, the two inputs different, the operation one of the
eight DARTS operations (`none` included). The cell outputs the concatenation
of its four nodes. Written as `genelang import darts` writes a DARTS genotype
(`examples/genotypes/darts_v2.gene`):

    adf n2 = add sep_conv_3x3 sep_conv_3x3 | h2 h1 h1 h1     # nodes n2..n5, r2..r5
    ...
    cell normal    = cat cat n5 cat | n4 n2 n3 n3 n3
    cell reduction = cat cat r5 cat | r4 r2 r3 r3 r3

The last two tail symbols of a node are non-coding (any input the node may
read; the printer and the importer repeat the second input). The network is
the conv space's DARTS network (`runtime/networks.py`, skeleton `darts`):
every symbol is a conv-space operation.

As a relaxation sees it, a cell is 14 edges (node, input): 2 + 3 + 4 + 5
candidate inputs for the four nodes; a genome puts an operation on two edges
into each node and `none` on the others (`edge_ops`, `genome_from_edges`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.conv_space import ConvSpace
from genelang.compiler.opsets import DARTS_OPS
from genelang.compiler.registry import ADF, MAIN, Op, Report, register_op, register_space
from genelang.compiler.template import Slot

DARTS = "darts"
OPS = DARTS_OPS
INPUTS = ("h2", "h1")                       # DARTS's inputs 0 and 1
CELLS = (("normal", "n"), ("reduction", "r"))
NODES = (2, 3, 4, 5)                        # DARTS numbers the intermediate nodes after the two inputs
NODE_HEAD, NODE_TAIL = 3, karva.tail_length(3, 2)


def node_name(prefix: str, k: int) -> str:
    return f"{prefix}{k}"


def node_inputs(prefix: str, k: int) -> tuple[str, ...]:
    """What node k of a cell may read: the cell's inputs and its earlier nodes."""
    return (*INPUTS, *(node_name(prefix, j) for j in NODES if j < k))


@dataclass(frozen=True)
class Edge:
    cell: str           # normal | reduction
    node: str           # n2..n5, r2..r5
    input: str          # h2, h1 or an earlier node

    @property
    def name(self) -> str:
        return f"{self.node}:{self.input}"

    @property
    def reads_cell_input(self) -> bool:
        """In a reduction cell such an edge's operation strides."""
        return self.input in INPUTS


# 14 edges per cell, normal first, by node and then input (DARTS's order of α's rows)
EDGES = tuple(Edge(cell, node_name(p, k), i) for cell, p in CELLS for k in NODES for i in node_inputs(p, k))


def _cell_tree(prefix: str) -> karva.Node:
    """cat(cat(cat(n2, n3), n4), n5): what the importer writes for DARTS's concat [2, 3, 4, 5]."""
    tree = karva.Node(node_name(prefix, NODES[0]))
    for k in NODES[1:]:
        tree = karva.Node("cat", (tree, karva.Node(node_name(prefix, k))))
    return tree


def _arity(symbol: str) -> int:
    return 2 if symbol in ("add", "cat") else 1 if symbol in OPS else 0


CELL_GENES = {cell: karva.encode(_cell_tree(p), _arity, 2) for cell, p in CELLS}
GENE_ORDER = tuple([("adf", node_name(p, k)) for _, p in CELLS for k in NODES] + [("cell", c) for c, _ in CELLS])


def genome_from_edges(ops: Sequence[str], name: str = "darts") -> Genome:
    """The genome of one op per edge (`EDGES`' order), `none` where a node has no
    edge; every node needs exactly two edges that are not `none`."""
    ops = tuple(ops)
    if len(ops) != len(EDGES) or any(o not in OPS for o in ops):
        raise ValueError(f"a darts genome is {len(EDGES)} edge ops from {', '.join(OPS)}; got {ops!r}")
    genes = []
    for _, prefix in CELLS:
        for k in NODES:
            node = node_name(prefix, k)
            pairs = [(o, e.input) for o, e in zip(ops, EDGES) if e.node == node and o != "none"]
            if len(pairs) != 2:
                raise ValueError(f"node {node} has {len(pairs)} edges that are not none; it needs 2")
            (a, x), (b, y) = pairs
            genes.append(Gene("adf", node, ("add", a, b), (x, y, y, y)))
    for cell, _ in CELLS:
        head, tail = CELL_GENES[cell]
        genes.append(Gene("cell", cell, head, tail))
    return Genome(name, DARTS, tuple(genes))


def node_pairs(gene: Gene) -> list[tuple[str, str]]:
    """The (operation, input) pairs of a node gene of a valid genome."""
    _, a, b = gene.head
    return [(a, gene.tail[0]), (b, gene.tail[1])]


def edge_ops(genome: Genome) -> tuple[str, ...]:
    """One op per edge of a checked darts genome: the node's op on each of its
    two inputs, `none` elsewhere (a `none` pair computes what no edge does)."""
    ops = {(g.name, x): o for g in genome.adfs for o, x in node_pairs(g)}
    return tuple(ops.get((e.node, e.input), "none") for e in EDGES)


_NODE_HINT = "a darts node is add(OP(INPUT), OP(INPUT)), two different inputs, OP one of " + ", ".join(OPS)


def _shape_hint() -> str:
    return ("darts genomes have the genes " + ", ".join(f"{k} {n}" for k, n in GENE_ORDER)
            + ", in this order (`genelang import darts` writes them)")


class DartsSpace(ConvSpace):
    """Genes of a fixed shape; the two (operation, input) pairs of each node vary."""

    def terminals(self, genome: Genome, gene: Gene) -> list[str]:
        prefix = dict(CELLS).get(gene.name)
        if gene.kind == "adf" and re.fullmatch(r"[nr][2-5]", gene.name):
            return list(node_inputs(gene.name[0], int(gene.name[1])))
        if gene.kind != "adf" and prefix:
            return [node_name(prefix, k) for k in NODES]
        return super().terminals(genome, gene)

    def explain(self, genome: Genome, gene: Gene, symbol: str):
        if gene.kind == "adf" and re.fullmatch(r"[nr][2-5]", symbol) and symbol[0] != gene.name[0]:
            cell = "normal" if symbol[0] == "n" else "reduction"
            return ("input", f"node {gene.name!r} reads {symbol!r}, a node of the {cell} cell",
                    f"a node reads {', '.join(INPUTS)} and the earlier nodes of its own cell")
        return super().explain(genome, gene, symbol)

    def check_extra(self, genome: Genome, report: Report, clean: bool) -> None:
        if not clean:   # a symbol problem already reported would come back as a shape problem
            return
        have = [(g.kind, g.name) for g in genome.genes]
        if have != list(GENE_ORDER):
            first = next((g for g, w in zip(genome.genes, GENE_ORDER) if (g.kind, g.name) != w), None)
            report("shape", "not a darts genome: its genes differ from DARTS's cell",
                   first.pos if first else genome.pos, _shape_hint())
            return
        for gene in genome.genes:
            if gene.kind == "adf":
                _check_node(gene, report)
            elif (gene.head, gene.tail) != CELL_GENES[gene.name]:
                head, tail = CELL_GENES[gene.name]
                report("shape", f"cell {gene.name!r} must concatenate its four nodes as DARTS does",
                       gene.pos, f"cell {gene.name} = {' '.join(head)} | {' '.join(tail)}")

    def computation(self, genome: Genome) -> str:
        """Pairs are summed, so their order in a node does not matter."""
        return ";".join(f"{g.name}=" + "+".join(sorted(f"{o}({x})" for o, x in node_pairs(g)))
                        for g in genome.adfs)

    def search_layout(self) -> tuple[Slot, ...]:
        slots = []
        for _, prefix in CELLS:
            for k in NODES:
                ins = node_inputs(prefix, k)
                slots.append(Slot.fixed("adf", node_name(prefix, k), NODE_HEAD,
                                        (("add",), OPS, OPS) + (ins,) * NODE_TAIL))
        for cell, _ in CELLS:
            head, tail = CELL_GENES[cell]
            slots.append(Slot.fixed("cell", cell, len(head), tuple((s,) for s in head + tail)))
        return tuple(slots)


def _check_node(gene: Gene, report: Report) -> None:
    tree = karva.decode(gene.symbols, _arity)
    if tree.symbol != "add":
        report("shape", f"node {gene.name!r} must sum two (operation, input) pairs", gene.pos_of(0), _NODE_HINT)
        return
    pairs, extra = _summands(tree), None
    if len(pairs) != 2:
        extra = next(n for n in tree.walk() if n.symbol == "add" and n is not tree)
        report("shape", f"node {gene.name!r} sums {len(pairs)} (operation, input) pairs; a DARTS node sums two",
               gene.pos_of(extra.index), _NODE_HINT)
        return
    for pair in pairs:
        if pair.symbol not in OPS or pair.children[0].children:
            what = pair.symbol if pair.symbol not in OPS else f"{pair.symbol}({pair.children[0].symbol}(...))"
            report("shape", f"{what!r} in node {gene.name!r}: each summand is one operation on one input",
                   gene.pos_of(pair.index), _NODE_HINT + (f"; e.g. skip_connect({pair.symbol})"
                                                          if not pair.children else ""))
            return
    first, second = (p.children[0] for p in pairs)
    if first.symbol == second.symbol:
        report("shape", f"node {gene.name!r} reads {first.symbol!r} twice; its two edges come from different inputs",
               gene.pos_of(second.index), _NODE_HINT)
        return
    if (len(gene.head), len(gene.tail)) != (NODE_HEAD, NODE_TAIL):
        report("shape", f"node {gene.name!r} is written with a head of {NODE_HEAD} and a tail of {NODE_TAIL}: "
               "add OP OP | INPUT INPUT INPUT INPUT", gene.pos, "the last two inputs are not read")


def _summands(tree: karva.Node) -> list[karva.Node]:
    """The operands of a tree of nested adds."""
    if tree.symbol != "add":
        return [tree]
    return [s for c in tree.children for s in _summands(c)]


register_space(DartsSpace(
    DARTS, main_kind="cell", required_mains=tuple(c for c, _ in CELLS),
    allowed_mains=re.compile(r"^(normal|reduction)$"),
    builders_module="genelang.compiler.conv_ops", inputs=INPUTS,
    network="genelang.runtime.build:conv_network", cost_model="genelang.runtime.cost_table:task_cost_table",
    relaxation="genelang.differentiable.darts:DartsRelaxation", skeletons=("darts",),
    input_layout=("C", "H", "W"), example_input=(3, 32, 32), aliases=("darts-cell", "darts_cnn"),
    doc="DARTS's cell search space: 4 nodes per cell, each summing two (DARTS op, input) pairs"))
for _name in OPS:
    register_op(Op(_name, 1, DARTS, frozenset({ADF}), doc=f"DARTS primitive {_name}"))
register_op(Op("add", 2, DARTS, frozenset({ADF}), doc="a node sums its two (operation, input) pairs"))
register_op(Op("cat", 2, DARTS, frozenset({MAIN}), doc="a cell concatenates its four nodes"))
