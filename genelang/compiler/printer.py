"""AST → text: the exact inverse of the parser on formatted input.

Layout: genomes separated by one blank line, genes indented four spaces with
their '=' aligned, Karva as `head | tail`, a tree as nested calls, inline
comments two spaces after the code.
"""
from __future__ import annotations

from genelang.compiler import karva
from genelang.compiler.ast import Gene, GeneFile, Genome
from genelang.compiler.registry import ADF, MAIN, arity_fn, get_space, spaces

INDENT = "    "


def _arity(space: str):
    if space in spaces():
        return arity_fn(space)
    return lambda s: 0


def _max_arity(space: str) -> int:
    if space not in spaces():
        return 2
    sp = get_space(space)
    return max(sp.max_arity(ADF), sp.max_arity(MAIN))


def gene_body(gene: Gene, space: str, form: str | None = None) -> str:
    """The text right of '=': Karva, or a nested call when that loses nothing
    (the tail is exactly the canonical padding) or when `form="tree"` forces it."""
    form = form or gene.form
    if form == "tree":
        arity = _arity(space)
        try:
            tree = karva.decode(gene.symbols, arity)
        except karva.IncompleteORF:
            tree = None
        if tree is not None:
            forced = (gene.form != "tree")
            if forced or karva.encode(tree, arity, _max_arity(space)) == (gene.head, gene.tail):
                return karva.to_nested(tree)
    return f"{' '.join(gene.head)} | {' '.join(gene.tail)}"


def format_genome(genome: Genome, form: str | None = None) -> str:
    lines = [*genome.leading]
    lines.append(_with_comment(f"genome {genome.name} on {genome.space} {{", genome.comment))
    width = max((len(g.kind) + 1 + len(g.name) for g in genome.genes), default=0)
    codes = [f"{g.kind} {g.name}".ljust(width) + f" = {gene_body(g, genome.space, form)}"
             for g in genome.genes]
    # inline comments line up in one column per genome
    col = max((len(c) for c, g in zip(codes, genome.genes) if g.comment), default=0)
    for gene, code in zip(genome.genes, codes):
        if gene.blank_before:
            lines.append("")
        lines += [INDENT + c for c in gene.leading]
        lines.append(INDENT + _with_comment(code.ljust(col) if gene.comment else code, gene.comment))
    lines += [INDENT + c for c in genome.closing]
    lines.append(_with_comment("}", genome.end_comment))
    return "\n".join(lines) + "\n"


def format_file(gf: GeneFile, form: str | None = None) -> str:
    """Print a file. `form` ("karva" or "tree") rewrites every gene in that form;
    None keeps each gene's own. A tree shows only the coding region."""
    parts = [format_genome(g, form) for g in gf.genomes]
    if gf.trailing:
        parts.append("\n".join(gf.trailing) + "\n")
    return "\n".join(parts)


def _with_comment(code: str, comment: str | None) -> str:
    return f"{code}  {comment}" if comment else code
