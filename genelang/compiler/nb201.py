"""The NAS-Bench-201 space: its five operations, the one way a cell is written,
and conversions to the benchmark's names (arch strings, 6-digit table keys).

A cell has an input node 0 (`x`) and nodes 1..3, node j the sum of one
operation per earlier node; the cell's output is node 3. In the language the
nodes are genes whose shape is fixed and whose only free symbols are the six
operations, in NAS-Bench-201's edge order (0→1, 0→2, 1→2, 0→3, 1→3, 2→3):

    adf n1  = OP01(x)
    adf n2  = add(OP02(x), OP12(n1))
    cell n3 = add(add(OP03(x), OP13(n1)), OP23(n2))

So a genome valid in this space is exactly one of the 5^6 cells and every cell
is one genome: `check_shape` rejects any other symbol at any other position,
the non-coding tail included. A search fills `LAYOUT`'s op positions only.
Language only: the PyTorch builders live in `nb201_ops`.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Iterator

from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.registry import ADF, MAIN, Op, Report, Space, register_op, register_space
from genelang.compiler.template import Slot

NB201 = "nb201"
INPUT = "x"
# the table's digit order (and NATS-Bench's)
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NODE_NAMES = ("x", "n1", "n2", "n3")
SIZE = len(OPS) ** len(EDGES)



def _node_tree(j: int, ops: dict[tuple[int, int], str]) -> karva.Node:
    edges = [karva.Node(ops[(i, j)], (karva.Node(NODE_NAMES[i]),)) for i in range(j)]
    tree = edges[0]
    for e in edges[1:]:
        tree = karva.Node("add", (tree, e))
    return tree


def _arity(sym: str) -> int:
    return 2 if sym == "add" else 1 if sym in OPS else 0


HOLE = "?"   # an op position in LAYOUT


@dataclass(frozen=True)
class GeneLayout:
    """One node gene: its kind, name and symbols, with HOLE where an op goes;
    `edges[k]` is the edge (index into EDGES) of the k-th hole, in Karva order."""

    kind: str
    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    edges: tuple[int, ...]

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.head + self.tail

    def fill(self, ops: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(head, tail) with the holes filled from the six ops (in edge order)."""
        it = iter(ops[e] for e in self.edges)
        syms = tuple(next(it) if s == HOLE else s for s in self.symbols)
        return syms[: len(self.head)], syms[len(self.head):]


def _layout() -> tuple[GeneLayout, ...]:
    marks = {e: f"#{k}" for k, e in enumerate(EDGES)}
    out = []
    for j in (1, 2, 3):
        tree = _node_tree(j, marks)
        arity = lambda s: 1 if s.startswith("#") else _arity(s)   # noqa: E731
        head, tail = karva.encode(tree, arity, 2)
        syms = head + tail
        edges = tuple(int(s[1:]) for s in syms if s.startswith("#"))
        syms = tuple(HOLE if s.startswith("#") else s for s in syms)
        out.append(GeneLayout("cell" if j == 3 else "adf", NODE_NAMES[j],
                              syms[: len(head)], syms[len(head):], edges))
    return tuple(out)


# The genes of every NB201 genome: a search varies the HOLE positions over OPS, nothing else.
LAYOUT = _layout()


def genome_from_ops(ops, name: str = "nb201") -> Genome:
    """The genome of six ops in edge order (0→1, 0→2, 1→2, 0→3, 1→3, 2→3)."""
    ops = tuple(ops)
    if len(ops) != len(EDGES) or any(o not in OPS for o in ops):
        raise ValueError(f"an NB201 cell is 6 ops from {', '.join(OPS)}; got {ops!r}")
    genes = []
    for g in LAYOUT:
        head, tail = g.fill(ops)
        genes.append(Gene(g.kind, g.name, head, tail, "tree"))
    return Genome(name, NB201, tuple(genes))


def ops_of(genome: Genome) -> tuple[str, ...]:
    """The six ops of a valid NB201 genome, in edge order."""
    problems = check_shape(genome)
    if problems:
        raise ValueError(f"not an NB201 cell: {problems[0].message}")
    ops: list[str] = [""] * len(EDGES)
    for g, gene in zip(LAYOUT, genome.genes):
        holes = (s for s, t in zip(gene.symbols, g.symbols) if t == HOLE)
        for e, sym in zip(g.edges, holes):
            ops[e] = sym
    return tuple(ops)


def key_of(genome: Genome) -> str:
    """The table's 6-digit key: each digit an op's index in OPS, edges in order."""
    return "".join(str(OPS.index(o)) for o in ops_of(genome))


def genome_from_key(key: str, name: str = "nb201") -> Genome:
    if not re.fullmatch(r"[0-4]{6}", key):
        raise ValueError(f"an NB201 key is 6 digits 0-4; got {key!r}")
    return genome_from_ops((OPS[int(d)] for d in key), name)


def genome_from_arch(arch: str, name: str = "nb201") -> Genome:
    """From a NATS-Bench arch string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`."""
    nodes = arch.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(f"an NB201 arch string has 3 nodes separated by '+'; got {arch!r}")
    ops = []
    for j, node in enumerate(nodes, start=1):
        edges = [e.partition("~") for e in node[1:-1].split("|")]
        if not (node.startswith("|") and node.endswith("|")) or [i for _, _, i in edges] != [
                str(i) for i in range(j)]:
            raise ValueError(f"node {j} of {arch!r} must read |op~0|...|op~{j - 1}|")
        ops += [o for o, _, _ in edges]
    return genome_from_ops(ops, name)


def arch_of(genome: Genome) -> str:
    ops = dict(zip(EDGES, ops_of(genome)))
    return "+".join("|" + "|".join(f"{ops[(i, j)]}~{i}" for i in range(j)) + "|" for j in (1, 2, 3))


def computation(ops: tuple[str, ...]) -> str:
    """What a cell computes, the same text for cells that compute the same
    function of their input (up to weights): `none` edges dropped, edges off
    every input-to-output path dropped (they add nothing to the output),
    `skip_connect` read as its input, sums of a node's edges sorted (addition
    commutes). '' for a cell whose output is constant zero. Two cells of one
    computation are one network to a weight-sharing supernet's sampler."""
    live = {(i, j): op for (i, j), op in zip(EDGES, ops) if op != "none"}
    reached = {0}                          # nodes the input reaches
    for i, j in sorted(live, key=lambda e: e[1]):
        if i in reached:
            reached.add(j)
    feeds = {3}                            # nodes that reach the output
    for i, j in sorted(live, key=lambda e: -e[0]):
        if j in feeds:
            feeds.add(i)
    text = {0: "x"}
    for j in (1, 2, 3):
        parts = sorted(text[i] if op == "skip_connect" else f"{op}({text[i]})" for (i, jj), op in live.items()
                       if jj == j and i in reached and j in feeds and text.get(i))
        text[j] = "+".join(parts)
        if len(parts) > 1:
            text[j] = f"[{text[j]}]"
    return text[3]


def all_genomes() -> Iterator[Genome]:
    """Every NB201 cell once, in key order (000000, 000001, ...)."""
    for ops in itertools.product(OPS, repeat=len(EDGES)):
        yield genome_from_ops(ops)


@dataclass(frozen=True)
class ShapeProblem:
    code: str
    message: str
    gene: Gene | None
    index: int          # symbol index in the gene, -1: the gene as a whole
    hint: str = ""


_HINT = ("NB201 genes are exactly: adf n1 = OP(x); adf n2 = add(OP(x), OP(n1)); "
         "cell n3 = add(add(OP(x), OP(n1)), OP(n2)), OP one of " + ", ".join(OPS))


def check_shape(genome: Genome) -> list[ShapeProblem]:
    """Problems that keep a genome from being one NB201 cell (empty: it is one)."""
    want = [(g.kind, g.name) for g in LAYOUT]
    have = [(g.kind, g.name) for g in genome.genes]
    if have != want:
        first = next((g for g, w in zip(genome.genes, want) if (g.kind, g.name) != w), None)
        return [ShapeProblem("shape", "an NB201 genome has the genes "
                             + ", ".join(f"{k} {n}" for k, n in want) + ", in this order",
                             first, -1, _HINT)]
    problems = []
    for g, gene in zip(LAYOUT, genome.genes):
        problem = _gene_problem(g, gene)
        if problem:
            problems.append(problem)
    return problems


def _gene_problem(g: GeneLayout, gene: Gene) -> ShapeProblem | None:
    for i, (sym, slot) in enumerate(zip(gene.symbols, g.symbols)):
        if slot == HOLE and sym not in OPS:
            return ShapeProblem("shape", f"{sym!r} where {gene.name} needs an operation",
                                gene, i, "operations: " + ", ".join(OPS))
        if slot != HOLE and sym != slot:
            return ShapeProblem("shape", f"{sym!r} where {gene.name} needs {slot!r}", gene, i, _HINT)
    if len(gene.head) != len(g.head) or len(gene.tail) != len(g.tail):
        # the tail is fixed too, so that one text is one cell
        return ShapeProblem("shape", f"{gene.name} has a head of {len(g.head)} and a tail of "
                            f"{len(g.tail)}: {' '.join(g.head)} | {' '.join(g.tail)}", gene, -1, _HINT)
    return None


def terminals(genome: Genome, gene: Gene) -> list[str]:
    """The input and the nodes before this one."""
    names = [g.name for g in genome.genes]
    return [INPUT, *names[: names.index(gene.name)]] if gene.name in names else [INPUT]


class NB201Space(Space):
    """Genes of one fixed shape; only the six edge operations vary."""

    def terminals(self, genome: Genome, gene: Gene) -> list[str]:
        return terminals(genome, gene)

    def check_extra(self, genome: Genome, report: Report, clean: bool) -> None:
        if not clean:   # a symbol problem already reported would be reported again as a shape problem
            return
        for p in check_shape(genome):
            pos = p.gene.pos_of(p.index) if p.gene and p.index >= 0 else (p.gene.pos if p.gene else genome.pos)
            report(p.code, p.message, pos, p.hint)

    def computation(self, genome: Genome) -> str:
        return computation(ops_of(genome))

    def search_layout(self) -> tuple[Slot, ...]:
        return tuple(Slot.fixed(g.kind, g.name, len(g.head), tuple(OPS if s == HOLE else (s,) for s in g.symbols))
                     for g in LAYOUT)


register_space(NB201Space(
    NB201, main_kind="cell", required_mains=("n3",), allowed_mains=re.compile(r"^n3$"),
    builders_module="genelang.compiler.nb201_ops", inputs=(INPUT,),
    network="genelang.runtime.build:nb201_network", skeletons=("nb201",), input_layout=("C", "H", "W"),
    supernet="genelang.runtime.supernet.nb201:nb201_supernet",
    relaxation="genelang.differentiable.nb201:NB201Relaxation",
    example_input=(3, 32, 32),
    aliases=("nasbench201", "nas-bench-201", "nats"),
    doc="NAS-Bench-201 cells: nodes n1, n2 (adf) and n3 (cell), six edge operations"))
_BOTH = frozenset({ADF, MAIN})
for _name, _doc in zip(OPS, ("zeros", "identity", "ReLU → conv 1×1 → BN",
                             "ReLU → conv 3×3 → BN", "3×3 average pool, stride 1")):
    register_op(Op(_name, 1, NB201, _BOTH, doc=f"NAS-Bench-201 {_name}: {_doc}"))
register_op(Op("add", 2, NB201, _BOTH, doc="element-wise sum (a node sums its incoming edges)"))
