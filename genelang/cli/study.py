"""Study commands: ablate (and, with the training stack, sample and compare)."""
from __future__ import annotations

from pathlib import Path

import click

from genelang.cli import cli
from genelang.cli._common import handle_errors, out
from genelang.compiler import load_file
from genelang.study.ablate import EDIT_HELP, ablate as ablate_genome


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("edits", nargs=-1, required=True)
@click.option("--genome", "genome_name", help="The genome to vary (default: the only one).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the variant files.")
def ablate(file: Path, edits: tuple[str, ...], genome_name: str | None, out_dir: Path) -> None:
    """Write systematic variants of a genome, one .gene file each.

    \b
    EDITS (one or more):
      replace:OLD=NEW       every OLD operation replaced by NEW
      each-node:OP          one variant per node replaced by OP
      drop-edges            one variant per add/cat input edge dropped
      add-edge:OP(INPUT)    one variant per ADF with + OP(INPUT) added
      one-activation:ACT    every activation replaced by ACT (rnn)
      swap-cells            normal and reduction cells swapped (conv)

    Variants that are invalid in the space are reported and not written;
    variants identical to the original or to another variant are skipped.
    """
    with handle_errors():
        genome = load_file(file).genome(genome_name)
        result = ablate_genome(genome, list(edits), out_dir, source=str(file))
    for path, v in result.written:
        out.print(f"[green]wrote[/green] {path}  [dim]{v.description}[/dim]")
    for v, reasons in result.rejected:
        out.print(f"[yellow]invalid[/yellow] {v.name}: {v.description} — {reasons[0]}")
    for v in result.duplicates:
        out.print(f"[dim]same network as another variant: {v.name}[/dim]")
    out.print(f"{len(result.written)} variant(s) written, {len(result.rejected)} invalid, "
              f"{len(result.duplicates)} duplicate(s)")


ablate.epilog = EDIT_HELP
