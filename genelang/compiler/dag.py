"""The phenotype of a genome: decoded expression trees, ADF references resolved
into a DAG per main program. Consumers (lowering, evolution's cache, `show`)
read genomes through here and never decode Karva themselves."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

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


class Renderer:
    """Writes trees as nested calls with ADF references written out. Each ADF
    is rendered once and shown as `adf(name, text)` wherever it is used: the
    same text for every use keeps sharing visible to whoever keys on it."""

    def __init__(self, trees: dict[str, karva.Node], adf: Callable[[str, str], str] = lambda name, text: text):
        self.trees, self.adf = trees, adf
        self._done: dict[str, str] = {}

    def __call__(self, node: karva.Node) -> str:
        sym = node.symbol
        if sym in self.trees:
            if sym not in self._done:
                self._done[sym] = self.adf(sym, self(self.trees[sym]))
            return self._done[sym]
        if not node.children:
            return sym
        return f"{sym}({', '.join(self(c) for c in node.children)})"


def canonical(genome: Genome) -> str:
    """A text that two genomes share exactly when they build the same network:
    coding regions only; ADFs numbered by first use, so their names, their order
    in the file and unused ADFs do not matter, while sharing (one ADF used twice
    is one node) does."""
    defs: list[str] = []

    def number(_name: str, text: str) -> str:
        defs.append(f"@{len(defs)} = {text}")
        return f"@{len(defs) - 1}"

    render = Renderer({g.name: expression(genome, g) for g in genome.adfs}, number)
    mains = [f"{g.kind} {g.name} = {render(expression(genome, g))}" for g in genome.mains]
    return "\n".join([genome.space, *defs, *mains])


def phenotype_hash(genome: Genome) -> str:
    return hashlib.sha256(canonical(genome).encode()).hexdigest()[:16]
