"""`genelang compile` (exports) and `genelang import darts`."""
from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from genelang.cli import cli
from genelang.cli._common import handle_errors, out

TARGETS = ("torchscript", "export", "onnx", "python", "dot", "summary")
SUFFIX = {"torchscript": ".pt", "export": ".pt2", "onnx": ".onnx", "python": ".py", "dot": ".dot"}


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r}: comma-separated integers, e.g. 3,32,32") from None
    if not dims or any(d <= 0 for d in dims):
        raise click.BadParameter(f"{text!r}: dimensions must be positive")
    return dims


SHAPE_OPTIONS = ("skeleton", "input_shape", "classes", "C", "N", "layers", "hidden", "seed")


@cli.command("compile")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--genome", "genome_name", help="Genome to compile (default: the only one).")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="What to write.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (default: FILE's name with the target's suffix). "
                   "For dot, a .svg or .png output is rendered with Graphviz.")
@click.option("--skeleton", type=click.Choice(["nasgep", "darts"]), default="nasgep", show_default=True)
@click.option("--input-shape", default=None,
              help="conv: C,H,W (default 3,32,32); rnn: T,F steps and features (default 16,32).")
@click.option("--classes", default=10, show_default=True, type=click.IntRange(1))
@click.option("--channels", "C", default=16, show_default=True, type=click.IntRange(2))
@click.option("--cells", "N", default=1, show_default=True, type=click.IntRange(1),
              help="Normal cells per stage (nasgep).")
@click.option("--layers", default=8, show_default=True, type=click.IntRange(3), help="Cells (darts).")
@click.option("--hidden", default=64, show_default=True, type=click.IntRange(1), help="rnn state width.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the initial weights.")
@click.pass_context
def compile_cmd(ctx, file, genome_name, target, output, skeleton, input_shape, classes, C, N, layers,
                hidden, seed) -> None:
    """Compile a genome into a network and write it out.

    FILE is a .gene file (the network gets fresh weights), or a directory
    written by `genelang train --out DIR`: then the trained network, built as
    training built it (task, model options and weights from DIR), is what is
    written.

    \b
    torchscript  .pt that loads with torch.jit.load, no genelang needed
    export       torch.export program (.pt2)
    onnx         ONNX model (needs the onnx extra)
    python       standalone source importing only torch, weights beside it
    dot          each cell's DAG (Graphviz; .svg/.png rendered)
    summary      parameters and multiply-adds per cell and in total
    """
    import torch

    from genelang.compiler import load_file
    from genelang.compiler.dot import render, to_dot
    from genelang.runtime import export
    from genelang.runtime.build import build_model
    from genelang.runtime.config import ModelConfig
    from genelang.runtime.summary import summarize

    with handle_errors():
        trained = file.is_dir()
        if trained:
            given = [p for p in SHAPE_OPTIONS
                     if ctx.get_parameter_source(p) is not click.core.ParameterSource.DEFAULT]
            if given:
                from genelang.errors import GenelangError
                raise GenelangError.at("options", "a trained network's shape comes from its directory",
                                       f"--{given[0].replace('_', '-')}",
                                       hint="drop the model options, or compile the .gene file instead")
            from genelang.runtime.trained import load_trained
            model, example, genome = load_trained(file, genome_name)
            file = file / genome.name
        else:
            genome = load_file(file).genome(genome_name)
        if target == "dot":
            text = to_dot(genome)
            dest = output or file.with_suffix(".dot")
            if dest.suffix in (".svg", ".png"):
                render(text, dest)
            else:
                dest.write_text(text)
            out.print(f"wrote {dest}")
            return
        shape = tuple(example.shape[1:]) if trained else (
            _shape(input_shape) if input_shape else (16, 32) if genome.space == "rnn" else (3, 32, 32))
        torch.manual_seed(seed)
        try:
            if not trained:
                model, example = build_model(genome, ModelConfig(skeleton, C=C, N=N, layers=layers,
                                                                 hidden=hidden),
                                             num_classes=classes, input_shape=shape)
            if target == "summary":
                rows = summarize(model, example)
        except (RuntimeError, ValueError) as err:
            from genelang.errors import GenelangError
            raise GenelangError.at("shape", f"cannot build for input shape {shape}: {err}",
                                   "--input-shape") from None
        if target == "summary":
            table = Table(title=f"{genome.name}: input {','.join(map(str, shape))}")
            for col in ("part", "parameters", "multiply-adds"):
                table.add_column(col, justify="left" if col == "part" else "right")
            for r in rows:
                table.add_row(r.name, f"{r.params:,}", f"{r.macs:,}",
                              style="bold" if r.name == "total" else None)
            out.print(table)
            return
        dest = output or file.with_name(f"{genome.name}{SUFFIX[target]}")
        if trained and output is None and dest.name == "model.pt":   # never over the trained weights
            dest = dest.with_name(f"{genome.name}.scripted.pt")
        if target == "torchscript":
            export.to_torchscript(model, dest)
        elif target == "export":
            export.to_export(model, example, dest)
        elif target == "onnx":
            export.to_onnx(model, example, dest)
        else:
            weights = export.to_python(model, dest, rnn_loop=genome.space == "rnn")
            out.print(f"wrote weights {weights}")
    out.print(f"wrote {dest}")


@cli.group("import")
def import_group() -> None:
    """Bring genotypes from other systems into genelang."""


@import_group.command("darts")
@click.argument("genotype")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the .gene here (default: print it).")
@click.option("--name", default="imported", show_default=True, help="Genome name.")
def import_darts_cmd(genotype: str, output: Path | None, name: str) -> None:
    """Convert a DARTS-format genotype to .gene text.

    GENOTYPE is the Genotype(...) expression as DARTS prints it, e.g.
    "Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])"
    or the recurrent "Genotype(recurrent=[('tanh', 0), ...], concat=range(1, 9))".
    """
    from genelang.compiler.darts_import import import_darts
    with handle_errors():
        text = import_darts(genotype, name)
    if output:
        output.write_text(text)
        out.print(f"wrote {output}")
    else:
        click.echo(text, nl=False)
