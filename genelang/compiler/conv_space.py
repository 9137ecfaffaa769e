"""The conv space's own rules (docs/semantics.md): cells link ADFs and never
read the inputs `h1`, `h2` themselves, and in a reduction cell every input is
first read by an operation, which then strides."""
from __future__ import annotations

from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.registry import AdfPools, Report, Space, arity_fn

CONV_INPUTS = ("h1", "h2")
CELLS = {False: "normal", True: "reduction"}   # a skeleton's cell kind (reduction?) -> the cell gene
LINKS = frozenset({"add", "cat"})   # functions that link rather than transform


def reads_input(node: karva.Node, trees: dict[str, karva.Node]) -> bool:
    """An input, or an ADF that is only an input (`adf a = h1 | ...`)."""
    while node.symbol in trees:
        node = trees[node.symbol]
    return node.symbol in CONV_INPUTS


class ConvSpace(Space):
    def terminals(self, genome: Genome, gene: Gene) -> list[str]:
        if gene.kind == "adf":
            return super().terminals(genome, gene)
        return [g.name for g in genome.genes if g.kind == "adf"]

    def explain(self, genome: Genome, gene: Gene, symbol: str):
        if symbol in self.inputs and gene.kind != "adf":
            return ("input", f"cell {gene.name!r} reads input {symbol!r} directly",
                    f"cells link ADFs; wrap the input in an ADF (e.g. adf a = skip_connect | {symbol})")
        return None

    def role_hint(self, gene: Gene) -> str:
        if gene.kind != "adf":
            return "cells link ADFs with add or cat; put operations in an adf gene"
        return super().role_hint(gene)

    def check_extra(self, genome: Genome, report: Report, clean: bool) -> None:
        if clean:
            _check_reduction(genome, report)



class NasgepPools(AdfPools):
    """NASGEP's separate pools: n* ADFs serve the normal cell, r* ADFs the reduction cell."""

    def names(self, adfs: int) -> list[str]:
        half = max(1, adfs // 2)
        return [f"n{i + 1}" for i in range(half)] + [f"r{i + 1}" for i in range(max(1, adfs - half))]

    def pool(self, kind: str, name: str) -> str:
        return name[0] if kind == "adf" else {"normal": "n", "reduction": "r"}[name]


def _check_reduction(genome: Genome, report: Report) -> None:
    try:
        reduction = genome.gene("reduction", "cell")
    except KeyError:
        return
    arity = arity_fn(genome.space)
    adfs = {g.name: g for g in genome.adfs}
    trees = {n: karva.decode(g.symbols, arity) for n, g in adfs.items()}
    bad: list[tuple[Gene, karva.Node]] = []
    memo: dict[str, bool] = {}

    def reduces(gene: Gene, node: karva.Node) -> bool:
        if node.symbol in CONV_INPUTS:
            bad.append((gene, node))
            return False
        if node.symbol in trees:
            if node.symbol not in memo:
                memo[node.symbol] = reduces(adfs[node.symbol], trees[node.symbol])
            return memo[node.symbol]
        if node.symbol in LINKS:
            return all([reduces(gene, c) for c in node.children])
        # an operation strides only where it reads an input directly
        return all([reads_input(c, trees) or reduces(gene, c) for c in node.children])

    reduces(reduction, karva.decode(reduction.symbols, arity))
    for gene, node in bad:
        report("reduce", f"input {node.symbol!r} reaches the reduction cell unreduced "
               f"(in {gene.kind} {gene.name!r})", gene.pos_of(node.index),
               "in a reduction cell every input must first be read by an operation, "
               f"e.g. skip_connect({node.symbol}), which reads it at stride 2")
