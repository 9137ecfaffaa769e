"""Systematic variants of a genome for ablation studies.

Each edit is a pure function Genome → [Variant]; a variant carries the edited
genome and a one-line description that becomes a comment in its `.gene` file.
Edits work on expression trees (coding regions) and re-encode to Karva,
keeping each gene's head length when the tree still fits, so variants stay in
the genome's search space. Variants the checker rejects are returned apart,
with the reasons, and never written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from genelang.atomic import atomic_write
from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.check import check_genome
from genelang.compiler.dag import canonical, expression
from genelang.compiler.printer import format_genome
from genelang.compiler.conv_space import LINKS
from genelang.compiler.registry import ADF, MAIN, arity_fn, get_space
from genelang.suggest import did_you_mean
from genelang.errors import GenelangError

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")


@dataclass(frozen=True)
class Variant:
    name: str            # file-name safe
    description: str     # what changed, one line
    genome: Genome


def _encode(genome: Genome, gene: Gene, tree: karva.Node) -> Gene:
    space = get_space(genome.space)
    arity = arity_fn(genome.space)
    n = space.max_arity(ADF if gene.kind == "adf" else MAIN)
    minimal, _ = karva.encode(tree, arity, n)
    head, tail = karva.encode(tree, arity, n, head_len=max(len(minimal), len(gene.head)))
    return replace(gene.with_symbols(head, tail), form="karva")


def _with_trees(genome: Genome, trees: dict[str, karva.Node], name: str, desc: str) -> Variant:
    genes = [(_encode(genome, g, trees[g.name]) if g.name in trees else g) for g in genome.genes]
    return Variant(name, desc, genome.replace_genes(genes))


def _map_nodes(node: karva.Node, fn) -> karva.Node:
    node = fn(node)
    return karva.Node(node.symbol, tuple(_map_nodes(c, fn) for c in node.children))


def _coding_nodes(genome: Genome):
    """(gene, node) for every node of every coding region, in gene then Karva order."""
    for gene in genome.genes:
        for node in expression(genome, gene).walk():
            yield gene, node


def _replace_at(tree: karva.Node, index: int, new: karva.Node) -> karva.Node:
    if tree.index == index:
        return new
    return karva.Node(tree.symbol, tuple(_replace_at(c, index, new) for c in tree.children), tree.index)


def replace_everywhere(genome: Genome, old: str, new: str) -> list[Variant]:
    trees = {g.name: expression(genome, g) for g in genome.genes}
    changed = {n: _map_nodes(t, lambda x: karva.Node(new, x.children) if x.symbol == old else x)
               for n, t in trees.items()}
    changed = {n: t for n, t in changed.items() if t != trees[n]}
    if not changed:
        return []
    return [_with_trees(genome, changed, f"replace-{old}-{new}", f"every {old} replaced by {new}")]


def replace_each_node(genome: Genome, new: str) -> list[Variant]:
    """One variant per coding node whose arity matches `new`, replaced by `new`."""
    arity = arity_fn(genome.space)
    out = []
    for gene, node in _coding_nodes(genome):
        if node.symbol == new or arity(node.symbol) != arity(new) or arity(new) == 0:
            continue
        tree = _replace_at(expression(genome, gene), node.index, karva.Node(new, node.children))
        out.append(_with_trees(genome, {gene.name: tree}, f"{gene.name}-{node.index}-{new}",
                               f"{gene.kind} {gene.name}: node {node.index} ({node.symbol}) replaced by {new}"))
    return out


def drop_edges(genome: Genome) -> list[Variant]:
    """One variant per coding two-input node of a cell's nodes, replaced by one of its
    operands: `add`/`cat` in a conv ADF (its only binary operations); any binary
    operation (add, mul, mean, cat_linear) in an rnn ADF or state program, each a
    node of the recurrent cell. A conv cell's own program only links its ADFs'
    outputs and is left alone."""
    out = []
    for gene, node in _coding_nodes(genome):
        if gene.kind == "cell" or len(node.children) != 2:
            continue
        for keep in (0, 1):
            tree = _replace_at(expression(genome, gene), node.index, node.children[keep])
            dropped = karva.to_nested(node.children[1 - keep])
            out.append(_with_trees(genome, {gene.name: tree}, f"{gene.name}-{node.index}-drop{1 - keep}",
                                   f"{gene.kind} {gene.name}: input edge {dropped} dropped from {node.symbol}"))
    return out


def add_edge(genome: Genome, op: str, source: str) -> list[Variant]:
    """One variant per cell node — an ADF, or an rnn state program — its output
    summed with op(source)."""
    out = []
    for gene in genome.genes:
        if gene.kind == "cell":
            continue
        tree = karva.Node("add", (expression(genome, gene), karva.Node(op, (karva.Node(source),))))
        out.append(_with_trees(genome, {gene.name: tree}, f"{gene.name}-add-{op}-{source}",
                               f"{gene.kind} {gene.name}: added input edge {op}({source})"))
    return out


def one_activation(genome: Genome, act: str) -> list[Variant]:
    """Every activation in the genome replaced by `act` (the MENAS ablation)."""
    trees = {g.name: expression(genome, g) for g in genome.genes}
    changed = {n: _map_nodes(t, lambda x: karva.Node(act, x.children) if x.symbol in ACTIVATIONS else x)
               for n, t in trees.items()}
    changed = {n: t for n, t in changed.items() if t != trees[n]}
    if not changed:
        return []
    return [_with_trees(genome, changed, f"one-activation-{act}", f"every activation replaced by {act}")]


def swap_cells(genome: Genome) -> list[Variant]:
    names = {g.name for g in genome.mains}
    if {"normal", "reduction"} - names:
        return []
    swap = {"normal": "reduction", "reduction": "normal"}
    genes = [replace(g, name=swap[g.name], pos=None) if g.kind == "cell" else g for g in genome.genes]
    return [Variant("swap-cells", "normal and reduction cells swapped", genome.replace_genes(genes))]


_EDIT = re.compile(r"^(?P<key>[a-z-]+)(?::(?P<arg>.*))?$")
EDIT_KINDS = ("replace", "each-node", "drop-edges", "add-edge", "one-activation", "swap-cells")
EDIT_HELP = ("edits: replace:OLD=NEW, each-node:OP, drop-edges, add-edge:OP(INPUT), "
             "one-activation:ACT, swap-cells")


def _edit_error(text: str, message: str, hint: str = EDIT_HELP) -> GenelangError:
    return GenelangError.at("edit", f"edit {text!r}: {message}", "<edits>", hint=hint)


def parse_edit(text: str, genome: Genome):
    """An edit written as text → a function Genome → [Variant]. An edit naming an
    operation the genome's space lacks, or one that cannot apply to the genome,
    is an error rather than an edit that silently matches nothing."""
    m = _EDIT.match(text)
    key, arg = (m["key"], m["arg"]) if m else (text, None)
    space = get_space(genome.space)

    def op(name: str) -> str:
        if name not in space.ops:
            raise _edit_error(text, f"unknown operation {name!r} in the {space.name} space",
                              did_you_mean(name, space.ops) or f"`genelang ops {space.name}` lists them")
        return name

    def needs(ok: bool, why: str) -> None:
        if not ok:
            raise _edit_error(text, f"does not apply to genome {genome.name!r} ({space.name}): {why}")

    if key == "replace" and arg and "=" in arg:
        old, new = (op(x) for x in arg.split("=", 1))
        return lambda g: replace_everywhere(g, old, new)
    if key == "each-node" and arg:
        new = op(arg)
        needs(space.ops[new].arity > 0, f"{new!r} is not a function")
        return lambda g: replace_each_node(g, new)
    if key == "drop-edges" and not arg:
        needs(bool(LINKS & set(space.ops)), "its space has no add or cat")
        return drop_edges
    if key == "add-edge" and arg and "(" in arg and arg.endswith(")"):
        name, source = arg[:-1].split("(", 1)
        needs("add" in space.ops and bool(genome.adfs), "it needs ADFs and an add operation")
        new = op(name)
        return lambda g: add_edge(g, new, source)
    if key == "one-activation" and arg:
        acts = [a for a in ACTIVATIONS if a in space.ops]
        needs(bool(acts), f"the {space.name} space has no activations")
        if arg not in acts:
            raise _edit_error(text, f"{arg!r} is not an activation of the {space.name} space",
                              did_you_mean(arg, acts) or f"activations: {', '.join(acts)}")
        return lambda g: one_activation(g, arg)
    if key == "swap-cells" and not arg:
        needs(not {"normal", "reduction"} - {g.name for g in genome.mains},
              "it has no normal and reduction cells")
        return swap_cells
    close = did_you_mean(key, EDIT_KINDS)
    raise _edit_error(text, "unknown edit", f"{close} {EDIT_HELP}" if close else EDIT_HELP)


@dataclass(frozen=True)
class AblationResult:
    written: list[tuple[Path, Variant]]
    rejected: list[tuple[Variant, list[str]]]
    duplicates: list[Variant]
    unmatched: list[str] = field(default_factory=list)   # edits that changed nothing


def ablate(genome: Genome, edits: list[str], out_dir: Path, source: str = "") -> AblationResult:
    """Write every valid variant of `genome` under `out_dir` as its own `.gene` file."""
    fns = [(e, parse_edit(e, genome)) for e in edits]
    found = [(e, fn(genome)) for e, fn in fns]
    variants = [v for _, vs in found for v in vs]
    out_dir.mkdir(parents=True, exist_ok=True)
    written, rejected, dups = [], [], []
    seen = {canonical(genome)}
    for v in variants:
        problems = check_genome(v.genome)
        if problems:
            rejected.append((v, [d.message for d in problems]))
            continue
        key = canonical(v.genome)
        if key in seen:
            dups.append(v)
            continue
        seen.add(key)
        name = f"{genome.name}__{v.name}"
        origin = f" from {source}" if source else ""
        g = replace(v.genome, name=_safe(name),
                    leading=(f"# Ablation of genome {genome.name}{origin}: {v.description}",))
        path = out_dir / f"{_safe(name)}.gene"
        atomic_write(path, format_genome(g))
        written.append((path, v))
    return AblationResult(written, rejected, dups, [e for e, vs in found if not vs])


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)

