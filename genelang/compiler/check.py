"""The checker: every problem of a file, each with a location, a caret and a hint.

Rules (see docs/semantics.md): symbols must exist in the genome's space and
suit the gene's role; tails hold terminals only and are long enough for the
head; ADFs read inputs and earlier ADFs; conv cells read ADFs; rnn states read
`x`, `S[t-1]` and the new values `S[t]` of other states without cycles; conv
genomes have a normal and a reduction cell, and the reduction cell can reduce.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from genelang.compiler import karva
from genelang.compiler import nb201
from genelang.compiler.ast import Gene, GeneFile, Genome, Pos
from genelang.compiler.opsets import CONV_INPUTS, RNN_STATE
from genelang.compiler.parser import parse_file, parse_text
from genelang.compiler.registry import ADF, MAIN, Space, arity_fn, get_space, spaces
from genelang.errors import CheckError, Diagnostic, Location

LINKS = {"add", "cat"}   # conv functions that link rather than transform


class _Reporter:
    def __init__(self, path: str, source: str):
        self.path = path
        self.lines = source.splitlines()
        self.diags: list[Diagnostic] = []

    def __call__(self, code: str, msg: str, pos: Pos | None, hint: str = "") -> None:
        if pos is None:
            loc = Location(self.path)
        else:
            src = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
            loc = Location(self.path, pos.line, pos.col, pos.end_col, src)
        self.diags.append(Diagnostic(code, msg, loc, hint))


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _sym_pos(gene: Gene, i: int) -> Pos | None:
    if gene.symbol_pos and i < len(gene.symbol_pos) and gene.symbol_pos[i] is not None:
        return gene.symbol_pos[i]
    return gene.pos


def terminals(genome: Genome, gene: Gene) -> list[str]:
    """The terminals a gene may use, in a stable order (evolution draws from these)."""
    if genome.space not in spaces():
        return []
    adfs = [g.name for g in genome.genes if g.kind == "adf"]
    earlier = adfs[:adfs.index(gene.name)] if gene.kind == "adf" and gene.name in adfs else adfs
    if genome.space == "conv":
        return [*CONV_INPUTS, *earlier] if gene.kind == "adf" else adfs
    if genome.space == nb201.NB201:
        return nb201.terminals(genome, gene)
    states = [g.name for g in genome.genes if g.kind != "adf"]
    base = ["x", *(f"{s}[t-1]" for s in states)]
    if gene.kind == "adf":
        return base + earlier
    return base + [f"{s}[t]" for s in states if s != gene.name] + adfs


def functions(genome: Genome, gene: Gene) -> list[str]:
    """The functions a gene's head may use."""
    if genome.space not in spaces():
        return []
    return get_space(genome.space).functions(ADF if gene.kind == "adf" else MAIN)


def check_genome(genome: Genome, path: str = "<genome>", source: str = "") -> list[Diagnostic]:
    report = _Reporter(path, source)
    _check_genome(genome, report)
    return report.diags


def check_file(gf: GeneFile) -> list[Diagnostic]:
    report = _Reporter(gf.path, gf.source)
    report.diags.extend(gf.problems)
    seen: dict[str, Genome] = {}
    for genome in gf.genomes:
        if genome.name in seen:
            report("duplicate", f"genome {genome.name!r} is defined twice", genome.pos,
                   f"the first is on line {seen[genome.name].pos.line}" if seen[genome.name].pos else "")
        seen.setdefault(genome.name, genome)
        _check_genome(genome, report, skip={p.location.line for p in gf.problems})
    return sorted(report.diags, key=lambda d: (d.location.line, d.location.col))


def load_text(text: str, path: str = "<string>") -> GeneFile:
    """Parse and check; raise CheckError listing every problem."""
    gf = parse_text(text, path)
    diags = check_file(gf)
    if diags:
        raise CheckError(diags)
    return gf


def load_file(path: str | Path) -> GeneFile:
    gf = parse_file(path)
    diags = check_file(gf)
    if diags:
        raise CheckError(diags)
    return gf


def _check_genome(genome: Genome, report: _Reporter, skip: set[int] = frozenset()) -> None:
    if genome.space not in spaces():
        report("space", f"unknown space {genome.space!r}", _space_pos(genome, report),
               _suggest(genome.space, spaces()) or f"spaces: {', '.join(sorted(spaces()))}")
        return
    space = get_space(genome.space)
    names: dict[str, Gene] = {}
    for gene in genome.genes:
        if gene.name in names:
            first = names[gene.name].pos
            report("duplicate", f"{gene.name!r} is defined twice in genome {genome.name!r}",
                   gene.pos, f"the first is on line {first.line}" if first else "")
        names.setdefault(gene.name, gene)
        _check_kind(space, gene, report)
    _check_mains(genome, space, report)
    ok_genes = []
    for gene in genome.genes:
        if gene.pos is not None and gene.pos.line in skip:
            continue
        if _check_gene(genome, space, gene, report):
            ok_genes.append(gene)
    if space.name == "rnn":
        _check_state_cycles(genome, report)
    if space.name == "conv" and len(ok_genes) == len(genome.genes) and not report.diags:
        _check_reduction(genome, report)
    if space.name == nb201.NB201 and len(ok_genes) == len(genome.genes):
        for p in nb201.check_shape(genome):
            report(p.code, p.message, _sym_pos(p.gene, p.index) if p.gene and p.index >= 0
                   else p.gene.pos if p.gene else genome.pos, p.hint)


def _space_pos(genome: Genome, report: _Reporter) -> Pos | None:
    if genome.pos is None:
        return None
    line = report.lines[genome.pos.line - 1] if genome.pos.line <= len(report.lines) else ""
    col = line.find(" on ", genome.pos.end_col - 1)
    if col < 0:
        return genome.pos
    start = col + 5
    return Pos(genome.pos.line, start, start + len(genome.space))


def _check_kind(space: Space, gene: Gene, report: _Reporter) -> None:
    if gene.kind == "adf":
        return
    if gene.kind != space.main_kind:
        report("kind", f"'{gene.kind}' genes do not exist in the {space.name} space", gene.pos,
               f"{space.name} genomes have 'adf' and '{space.main_kind}' genes")
    elif space.allowed_mains is not None and not space.allowed_mains.match(gene.name):
        allowed = " and ".join(space.required_mains)
        report("kind", f"unknown {gene.kind} {gene.name!r}", gene.pos,
               (_suggest(gene.name, space.required_mains) + " " if _suggest(gene.name, space.required_mains) else "")
               + f"{space.name} genomes have the cells {allowed}")


def _check_mains(genome: Genome, space: Space, report: _Reporter) -> None:
    have = {g.name for g in genome.mains}
    for name in space.required_mains:
        if name not in have:
            report("missing", f"genome {genome.name!r} has no {space.main_kind} {name!r}",
                   genome.pos, f"add a line: {space.main_kind} {name} = ...")
    if not genome.mains and not space.required_mains:
        report("missing", f"genome {genome.name!r} has no {space.main_kind} programs", genome.pos,
               f"add a line: {space.main_kind} NAME = ...")


def _check_gene(genome: Genome, space: Space, gene: Gene, report: _Reporter) -> bool:
    """Report the problems of one gene; True when it decodes cleanly."""
    role = ADF if gene.kind == "adf" else MAIN
    funcs = space.functions(role)
    func_set = set(funcs)
    terms = terminals(genome, gene)
    term_set = set(terms)
    adf_names = [g.name for g in genome.genes if g.kind == "adf"]
    ok = True
    for i, sym in enumerate(gene.symbols):
        in_head = i < len(gene.head)
        pos = _sym_pos(gene, i)
        if sym in space.ops:
            if not in_head:
                report("tail", f"function {sym!r} in the tail", pos,
                       "a tail holds terminals only, so every head decodes to a complete tree")
                ok = False
            elif sym not in func_set:
                report("role", f"{sym!r} cannot be used in a {gene.kind} gene", pos,
                       _role_hint(space, gene))
                ok = False
            continue
        if sym in term_set:
            continue
        ok = False
        code, msg, hint = _unknown(genome, space, gene, sym, terms, funcs, adf_names)
        report(code, msg, pos, hint)
    h, n = len(gene.head), space.max_arity(role)
    need = karva.tail_length(h, n)
    if len(gene.tail) < need:
        report("tail-length", f"tail too short: {len(gene.tail)} symbol(s) for a head of {h}",
               _sym_pos(gene, len(gene.symbols) - 1),
               f"a head of {h} needs a tail of at least {h}·({n}−1)+1 = {need}")
        ok = False
    return ok


def _role_hint(space: Space, gene: Gene) -> str:
    if space.name == "conv" and gene.kind == "cell":
        return "cells link ADFs with add or cat; put operations in an adf gene"
    return f"{gene.kind} genes use: {', '.join(space.functions(ADF if gene.kind == 'adf' else MAIN))}"


def _unknown(genome, space, gene, sym, terms, funcs, adf_names):
    """(code, message, hint) for a symbol that is neither a valid function nor terminal."""
    if sym in adf_names:
        if gene.kind == "adf":
            if sym == gene.name:
                return ("cycle", f"ADF {sym!r} refers to itself", "an ADF reads inputs and earlier ADFs")
            return ("order", f"ADF {sym!r} is defined after {gene.name!r}",
                    "an ADF may only use ADFs defined above it; move it up")
    if space.name == "conv":
        if sym in CONV_INPUTS and gene.kind == "cell":
            return ("input", f"cell {gene.name!r} reads input {sym!r} directly",
                    "cells link ADFs; wrap the input in an ADF (e.g. adf a = skip_connect | " + sym + ")")
    m = RNN_STATE.match(sym)
    if space.name == "rnn" and m:
        states = [g.name for g in genome.mains]
        if m["state"] not in states:
            return ("unknown", f"unknown state {m['state']!r} in {sym!r}",
                    f"states: {', '.join(states) or 'none'}")
        if not m["prev"]:
            if gene.kind == "adf":
                return ("order", f"ADF {gene.name!r} reads the new value {sym!r}",
                        f"ADFs read x and previous states; use {m['state']}[t-1]")
            return ("cycle", f"state {gene.name!r} reads its own new value {sym!r}",
                    f"use {sym[:-1]}-1] for the previous value")
    for other, sp in spaces().items():
        if other != space.name and sym in sp.ops:
            return ("space", f"{sym!r} is an operation of the {other} space, not {space.name}",
                    _suggest(sym, funcs) or f"`genelang ops {space.name}` lists them")
    if space.name == "rnn" and sym in CONV_INPUTS:
        return ("space", f"{sym!r} is a conv input, not an rnn terminal", f"rnn terminals: {', '.join(terms)}")
    hint = _suggest(sym, [*funcs, *terms]) or f"terminals here: {', '.join(terms) or 'none'}"
    return ("unknown", f"unknown symbol {sym!r}", hint)


def _check_state_cycles(genome: Genome, report: _Reporter) -> None:
    arity = arity_fn(genome.space)
    deps: dict[str, set[str]] = {}
    states = {g.name for g in genome.mains}
    adf_reads: dict[str, set[str]] = {}
    for gene in genome.genes:
        try:
            tree = karva.decode(gene.symbols, arity)
        except karva.IncompleteORF:
            return
        reads = set()
        for node in tree.walk():
            m = RNN_STATE.match(node.symbol)
            if m and not m["prev"] and m["state"] in states:
                reads.add(m["state"])
            elif node.symbol in adf_reads:
                reads |= adf_reads[node.symbol]
        if gene.kind == "adf":
            adf_reads[gene.name] = reads
        else:
            deps[gene.name] = reads - {gene.name}   # a self-read is reported per symbol
    # depth-first search for a cycle among states
    color: dict[str, int] = {}

    def visit(s: str, path: list[str]) -> list[str] | None:
        color[s] = 1
        for d in sorted(deps.get(s, ())):
            if color.get(d) == 1:
                return path + [s, d]
            if d not in color:
                found = visit(d, path + [s])
                if found:
                    return found
        color[s] = 2
        return None

    for s in [g.name for g in genome.mains]:
        if s not in color:
            cyc = visit(s, [])
            if cyc:
                start = cyc.index(cyc[-1])
                loop = " → ".join(f"{x}[t]" for x in cyc[start:])
                report("cycle", f"states depend on each other's new values: {loop}",
                       genome.gene(cyc[start]).pos, "break the cycle with a previous value S[t-1]")
                return


def _check_reduction(genome: Genome, report: _Reporter) -> None:
    """In a reduction cell every input must be read directly by an operation
    (which then strides) before anything else touches it."""
    try:
        reduction = genome.gene("reduction", "cell")
    except KeyError:
        return
    arity = arity_fn(genome.space)
    adfs = {g.name: g for g in genome.adfs}
    trees = {n: karva.decode(g.symbols, arity) for n, g in adfs.items()}
    bad: list[tuple[Gene, karva.Node]] = []
    memo: dict[str, bool] = {}

    def alias_of_input(node: karva.Node) -> bool:
        while node.symbol in trees:
            node = trees[node.symbol]
        return node.symbol in CONV_INPUTS

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
        return all([alias_of_input(c) or reduces(gene, c) for c in node.children])

    reduces(reduction, karva.decode(reduction.symbols, arity))
    for gene, node in bad:
        report("reduce", f"input {node.symbol!r} reaches the reduction cell unreduced "
               f"(in {gene.kind} {gene.name!r})", _sym_pos(gene, node.index),
               "in a reduction cell every input must first be read by an operation, "
               f"e.g. skip_connect({node.symbol}), which reads it at stride 2")
