"""The phenotype of a genome: decoded expression trees, ADF references resolved
into a DAG per main program. Consumers (lowering, evolution's cache, `show`)
read genomes through here and never decode Karva themselves."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.registry import arity_fn


def expression(genome: Genome, gene: Gene) -> karva.Node:
    """The coding region of a gene as a tree (ADF names are leaves)."""
    return karva.decode(gene.symbols, arity_fn(genome.space))


@dataclass(frozen=True)
class MainGraph:
    """One main program (a cell or a state) and the ADFs it reaches.

    `adfs` lists (name, tree) in dependency order: each ADF's tree refers only
    to inputs and to ADFs listed before it, so evaluating in this order computes
    every node once.
    """

    name: str
    root: karva.Node
    adfs: tuple[tuple[str, karva.Node], ...]


def main_graph(genome: Genome, main: str) -> MainGraph:
    trees = {g.name: expression(genome, g) for g in genome.adfs}
    gene = genome.gene(main)
    root = expression(genome, gene)
    order: list[str] = []
    seen: set[str] = set()

    def visit(node: karva.Node) -> None:
        for n in node.walk():
            if n.symbol in trees and n.symbol not in seen:
                seen.add(n.symbol)
                visit(trees[n.symbol])
                order.append(n.symbol)

    visit(root)
    return MainGraph(main, root, tuple((name, trees[name]) for name in order))


def main_graphs(genome: Genome) -> dict[str, MainGraph]:
    return {g.name: main_graph(genome, g.name) for g in genome.mains}


def inline(genome: Genome, main: str) -> str:
    """The main program with every ADF written out in place (for display and
    canonical forms). Exponential only in pathological nesting; genomes are small."""
    graph = main_graph(genome, main)
    expanded: dict[str, str] = {}

    def render(node: karva.Node) -> str:
        if node.symbol in expanded:
            return expanded[node.symbol]
        if not node.children:
            return node.symbol
        return f"{node.symbol}({', '.join(render(c) for c in node.children)})"

    for name, tree in graph.adfs:
        expanded[name] = "{" + render(tree) + "}"
    return render(graph.root)


def canonical(genome: Genome) -> str:
    """A text that two genomes share exactly when they build the same network:
    coding regions only; ADFs numbered by first use, so their names, their order
    in the file and unused ADFs do not matter, while sharing (one ADF used twice
    is one node) does."""
    trees = {g.name: expression(genome, g) for g in genome.adfs}
    ids: dict[str, str] = {}
    defs: list[str] = []

    def render(node: karva.Node) -> str:
        sym = node.symbol
        if sym in trees:
            if sym not in ids:
                body = render(trees[sym])
                ids[sym] = f"@{len(ids)}"
                defs.append(f"{ids[sym]} = {body}")
            return ids[sym]
        if not node.children:
            return sym
        return f"{sym}({', '.join(render(c) for c in node.children)})"

    mains = [f"{g.kind} {g.name} = {render(expression(genome, g))}" for g in genome.mains]
    return "\n".join([genome.space, *defs, *mains])


def phenotype_hash(genome: Genome) -> str:
    return hashlib.sha256(canonical(genome).encode()).hexdigest()[:16]
