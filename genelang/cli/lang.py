"""Language commands: check, fmt, show, ops."""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from genelang.atomic import atomic_write
from genelang.cli.group import cli
from genelang.cli._common import EXIT_USER, err, handle_errors, out, print_diagnostics
from genelang.compiler import dag, karva
from genelang.compiler.check import check_file, load_file
from genelang.compiler.parser import parse_file
from genelang.compiler.printer import format_file
from genelang.compiler.registry import arity_fn, get_space, space_aliases, spaces
from genelang.suggest import did_you_mean
from genelang.errors import GenelangError

FILES = click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))


@cli.command()
@FILES
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report on stdout.")
def check(files: tuple[Path, ...], as_json: bool) -> None:
    """Check genotype files: every error with file:line:col and a hint.

    Exit status 0 when all files are valid, 2 when any has an error.
    """
    report, diags = [], []
    for path in files:
        try:
            gf = parse_file(path)
            found = check_file(gf)
            genomes = [g.name for g in gf.genomes]
        except GenelangError as e:
            found, genomes = e.diagnostics, []
        diags += found
        report.append({"file": str(path), "ok": not found, "genomes": genomes,
                       "errors": [d.to_dict() for d in found]})
    if as_json:
        print(json.dumps({"ok": not diags, "files": report}, indent=2))
    else:
        print_diagnostics(diags)
        n_genomes = sum(len(r["genomes"]) for r in report)
        if diags:
            err.print(f"[red]{len(diags)} error(s)[/red] in "
                      f"{sum(not r['ok'] for r in report)} of {len(files)} file(s)")
        else:
            out.print(f"[green]ok[/green]: {len(files)} file(s), {n_genomes} genome(s)")
    if diags:
        raise SystemExit(EXIT_USER)


@cli.command()
@FILES
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if any file is not formatted.")
@click.option("--tree", "form", flag_value="tree", help="Write every gene as a nested call (drops non-coding symbols).")
@click.option("--karva", "form", flag_value="karva", help="Write every gene in Karva (head | tail).")
def fmt(files: tuple[Path, ...], check_only: bool, form: str | None) -> None:
    """Format genotype files in place (or just report with --check)."""
    changed = []
    with handle_errors():
        for path in files:
            gf = load_file(path) if form else parse_file(path)
            text = format_file(gf, form)
            if text != gf.source:
                changed.append(path)
                if not check_only:
                    atomic_write(path, text)
    verb = "would reformat" if check_only else "reformatted"
    for path in changed:
        out.print(f"{verb} {path}")
    out.print(f"{len(changed)} of {len(files)} file(s) {verb}" if changed
              else f"{len(files)} file(s) already formatted")
    if check_only and changed:
        raise SystemExit(1)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--genome", "genome_name", help="Show only this genome.")
def show(file: Path, genome_name: str | None) -> None:
    """Show genes (coding symbols bold, non-coding dim) and each main program's DAG."""
    with handle_errors():
        gf = load_file(file)
        genomes = [gf.genome(genome_name)] if genome_name else list(gf.genomes)
    for genome in genomes:
        _print_uncut(render_genome(genome))


def _print_uncut(tree: Tree) -> None:
    """A terminal wraps long lines inside the tree; a pipe or file, which has
    no width of its own, gets every line whole."""
    if out.is_terminal:
        out.print(tree, soft_wrap=False)
        return
    width, saved = Measurement.get(out, out.options.update_width(1 << 16), tree).maximum, out.width
    out.width = max(width, saved)   # print(width=...) can only narrow the console
    try:
        out.print(tree, soft_wrap=False)
    finally:
        out.width = saved


def render_genome(genome) -> Tree:
    arity = arity_fn(genome.space)
    root = Tree(Text.assemble(("genome ", "bold"), (genome.name, "bold cyan"), f" on {genome.space}"))
    genes = root.add("[bold]genes[/bold] [dim](coding | non-coding)[/dim]")
    for gene in genome.genes:
        n = karva.orf_length(gene.symbols, arity)
        text = Text(f"{gene.kind} {gene.name} = ")
        for i, sym in enumerate(gene.symbols):
            if i == len(gene.head):
                text.append("| ", style="dim")
            text.append(sym + " ", style="bold" if i < n else "dim")
        text.append(f"  → {dag.expression(genome, gene)}", style="green")
        genes.add(text)
    for gene in genome.mains:
        graph = dag.main_graph(genome, gene.name)
        trees = dict(graph.adfs)
        node = root.add(Text.assemble((f"{gene.kind} {gene.name}", "bold magenta"),
                                      (f"  ({len(graph.adfs)} ADF node(s), each computed once)", "dim")))
        _add_dag(node, graph.root, trees, set())
    return root


def _add_dag(parent: Tree, node: karva.Node, trees: dict, shown: set) -> None:
    if node.symbol in trees:
        if node.symbol in shown:
            parent.add(Text.assemble((node.symbol, "cyan"), (" (shared node, shown above)", "dim")))
            return
        shown.add(node.symbol)
        branch = parent.add(Text(node.symbol, style="bold cyan"))
        _add_dag(branch, trees[node.symbol], trees, shown)
        return
    branch = parent.add(Text(node.symbol, style="yellow" if node.children else ""))
    for child in node.children:
        _add_dag(branch, child, trees, shown)


@cli.command()
@click.argument("space", required=False)
def ops(space: str | None) -> None:
    """List the registered operations of a space (or of all spaces)."""
    names = [space] if space else sorted(spaces())
    for name in names:
        if name not in spaces():
            close = did_you_mean(name, spaces(), space_aliases())
            raise click.BadParameter(f"unknown space {name!r}; {close + ' ' if close else ''}"
                                     f"spaces: {', '.join(sorted(spaces()))}")
        sp = get_space(name)
        table = Table(title=f"{name}: {sp.doc}", title_justify="left")
        for col in ("op", "arity", "used in", "what it does"):
            table.add_column(col)
        for op in sorted(sp.ops.values(), key=lambda o: (-o.arity, o.name)):
            roles = ", ".join("ADFs" if r == "adf" else f"{sp.main_kind}s" for r in sorted(op.roles))
            table.add_row(op.name, str(op.arity), roles, op.doc)
        out.print(table)
