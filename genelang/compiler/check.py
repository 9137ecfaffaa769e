"""The checker: every problem of a file, each with a location, a caret and a hint.

Rules (see docs/semantics.md): symbols must exist in the genome's space and
suit the gene's role; tails hold terminals only and are long enough for the
head; ADFs read inputs and earlier ADFs; main genes exist as the space
requires. What a gene may read and the rules beyond these belong to the space
(`Space.terminals`, `Space.check_extra`; conv_space.py, rnn_space.py).
"""
from __future__ import annotations

from pathlib import Path

from genelang.compiler import karva
from genelang.compiler.ast import Gene, GeneFile, Genome, Pos
from genelang.compiler.parser import parse_file, parse_text
from genelang.compiler.registry import ADF, MAIN, Space, get_space, space_aliases, spaces
from genelang.suggest import did_you_mean
from genelang.errors import CheckError, Diagnostic, Location


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


def terminals(genome: Genome, gene: Gene) -> list[str]:
    """The terminals a gene may use, in a stable order (evolution draws from these)."""
    if genome.space not in spaces():
        return []
    return get_space(genome.space).terminals(genome, gene)


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
    if not gf.genomes and not gf.problems:
        # an empty file would otherwise pass here and fail later, in compile or
        # train, as a choice among no genomes
        report("empty", "no genome in file", None,
               "a genome is written `genome NAME on SPACE { ... }` (see examples/genotypes/)")
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
               did_you_mean(genome.space, spaces(), space_aliases()) or f"spaces: {', '.join(sorted(spaces()))}")
        return
    space = get_space(genome.space)
    found_before = len(report.diags)
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
    clean = len(ok_genes) == len(genome.genes) and len(report.diags) == found_before
    space.check_extra(genome, report, clean)


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
        close = did_you_mean(gene.name, space.required_mains)
        report("kind", f"unknown {gene.kind} {gene.name!r}", gene.pos,
               (close + " " if close else "")
               + f"{space.name} genomes have the {space.main_kind}s {' and '.join(space.required_mains)}")


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
    problems: list[tuple[str, str, str, int]] = []
    for i, sym in enumerate(gene.symbols):
        if sym in space.ops:
            if i >= len(gene.head):
                problems.append(("tail", f"function {sym!r} in the tail",
                                 "a tail holds terminals only, so every head decodes to a complete tree", i))
            elif sym not in func_set:
                problems.append(("role", f"{sym!r} cannot be used in a {gene.kind} gene",
                                 space.role_hint(gene), i))
        elif sym not in term_set:
            allowed = funcs if i < len(gene.head) else []    # a head position takes either
            code, msg, hint = _unknown(genome, space, gene, sym, terms, allowed, adf_names)
            problems.append((code, msg, hint, i))
    _report_once(gene, problems, report)
    ok = not problems
    h, n = len(gene.head), space.max_arity(role)
    need = karva.tail_length(h, n)
    if len(gene.tail) < need:
        report("tail-length", f"tail too short: {len(gene.tail)} symbol(s) for a head of {h}",
               gene.pos_of(len(gene.symbols) - 1),
               f"a head of {h} needs a tail of at least {h}·({n}−1)+1 = {need}")
        ok = False
    return ok


def _report_once(gene: Gene, problems: list[tuple[str, str, str, int]], report: _Reporter) -> None:
    """A symbol the text does not hold repeats one it does (a nested call's
    tail is padded with copies of its last terminal) or has no place of its own:
    each such problem is reported once, where it is written if it is."""
    written = {(code, msg) for code, msg, _, i in problems if gene.is_written(i)}
    for code, msg, hint, i in problems:
        if not gene.is_written(i):
            if (code, msg) in written:
                continue
            written.add((code, msg))
        report(code, msg, gene.pos_of(i), hint)


def _unknown(genome, space, gene, sym, terms, funcs, adf_names):
    """(code, message, hint) for a symbol that is neither a valid function nor
    terminal; `funcs` are the functions its position allows (none in a tail)."""
    if sym in adf_names and gene.kind == "adf" and gene.name in adf_names:
        if sym == gene.name:
            return ("cycle", f"ADF {sym!r} refers to itself", "an ADF reads inputs and earlier ADFs")
        if adf_names.index(sym) > adf_names.index(gene.name):
            return ("order", f"ADF {sym!r} is defined after {gene.name!r}",
                    "an ADF may only use ADFs defined above it; move it up")
        # an earlier ADF the space does not let this gene read: the space says why
    explained = space.explain(genome, gene, sym)
    if explained:
        return explained
    for other, sp in spaces().items():
        if other != space.name and sym in sp.ops:
            return ("space", f"{sym!r} is an operation of the {other} space, not {space.name}",
                    did_you_mean(sym, funcs) or f"`genelang ops {space.name}` lists them")
    for other, sp in spaces().items():
        if other != space.name and sym in sp.inputs:
            return ("space", f"{sym!r} is an input of the {other} space, not {space.name}",
                    f"{space.name} terminals: {', '.join(terms) or 'none'}")
    hint = did_you_mean(sym, [*funcs, *terms]) or _allowed_here(funcs, terms)
    return ("unknown", f"unknown symbol {sym!r}", hint)


def _allowed_here(funcs: list[str], terms: list[str]) -> str:
    here = f"terminals here: {', '.join(terms) or 'none'}"
    return f"functions here: {', '.join(funcs)}; {here}" if funcs else here
