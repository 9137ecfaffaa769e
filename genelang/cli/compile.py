"""`genelang compile` (exports) and `genelang import darts`."""
from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import click

from genelang.atomic import atomic_write
from genelang.cli.group import cli
from genelang.cli._common import as_flag, ensure_writable, handle_errors, out, skeleton_option

from genelang.runtime.config import ModelConfig
from genelang.runtime.ship import TARGETS

_M = ModelConfig()

# library argument -> the option that sets it
# library arguments whose option is not simply --NAME
_FLAGS = {"out": "--output", "num_classes": "--classes"}


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r}: comma-separated integers, e.g. 3,32,32") from None
    if not dims or any(d <= 0 for d in dims):
        raise click.BadParameter(f"{text!r}: dimensions must be positive")
    return dims


MODEL_OPTIONS = ("skeleton", "C", "N", "layers", "hidden")


@contextlib.contextmanager
def _as_flags(model_flag: str | None):
    """Library errors name arguments (`input_shape=`); a command line user gave options."""
    from genelang.errors import GenelangError
    try:
        yield
    except GenelangError as err:
        flags = _FLAGS | ({"model": model_flag} if model_flag else {})
        err.diagnostics = [as_flag(d, flags) for d in err.diagnostics]
        raise


@cli.command("compile")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--genome", "genome_name", help="Genome to compile (default: the only one).")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="What to write.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file [default: GENOME plus the target's suffix, beside FILE, or inside a trained "
                   "directory: GENOME.pt, .pt2, .onnx, .py (weights in GENOME.weights.pt), .dot; summary: "
                   "printed]. For dot, a .svg or .png output is rendered with Graphviz.")
@click.option("--task", help="Build for this task (its input shape, classes and input normalisation) "
                             "instead of --input-shape and --classes.")
@click.option("--root", help="Data directory for --task.")
@click.option("--spec", "spec_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Build with a search spec's task and model (e.g. RUN_DIR/spec.yaml): the very network the "
                   "search trained, parameter for parameter. Options given here still win.")
@skeleton_option
@click.option("--input-shape", default=None,
              help="conv: C,H,W (default 3,32,32); rnn: T,F steps and features (default 16,32).")
@click.option("--classes", type=click.IntRange(1), help="Outputs [default: 10].")
@click.option("--channels", "C", default=_M.C, show_default=True, type=click.IntRange(2))
@click.option("--cells", "N", default=_M.N, show_default=True, type=click.IntRange(1),
              help="Normal cells per stage (nasgep).")
@click.option("--layers", default=_M.layers, show_default=True, type=click.IntRange(3), help="Cells (darts).")
@click.option("--hidden", default=_M.hidden, show_default=True, type=click.IntRange(1), help="rnn state width.")
@click.option("--seed", type=int, help="Seed of the initial weights [default: 0].")
@click.option("--latency-table", type=click.Path(dir_okay=False, path_type=Path),
              help="summary: the latency table predicting each part's latency on this device [default: the "
                   "spec's fitness.latency with --spec, else latency.json at threads 1, batch 1].")
@click.pass_context
def compile_cmd(ctx, file, genome_name, target, output, spec_file, task, root, skeleton, input_shape, classes,
                C, N, layers, hidden, seed, latency_table) -> None:
    """Compile a genome into a network and write it out.

    FILE is a .gene file (the network gets fresh weights), or a directory
    written by `genelang train --out DIR`: then the trained network, built as
    training built it (task, model options and weights from DIR), is what is
    written.

    A trained image network, or one built with --task, takes images as floats
    in [0, 1] and applies the training normalisation itself; without --task
    the network has no input normalisation. Text networks come with
    OUT.vocab.json (token -> id).

    \b
    torchscript  .pt that loads with torch.jit.load, no genelang needed
    export       torch.export program (.pt2), any batch size (and length, rnn)
    onnx         ONNX model, any batch size (needs the onnx package:
                 pip install 'genelang[onnx]')
    python       standalone source importing only torch, weights beside it
                 (not of a trained text or time-series model)
    dot          each cell's DAG (Graphviz; .svg/.png rendered)
    summary      parameters, multiply-adds and predicted latency (from this
                 device's latency table, when it has the entries) per
                 stage or cell and in total
    """
    from genelang.runtime.config import ModelConfig, TaskConfig
    from genelang.runtime.latency.config import LatencyConfig
    from genelang.runtime.ship import compile_genome, load_network, summary_text

    given = [p for p in MODEL_OPTIONS if ctx.get_parameter_source(p) is not click.core.ParameterSource.DEFAULT]
    options = {"skeleton": skeleton, "C": C, "N": N, "layers": layers, "hidden": hidden}
    model_flag = f"--{given[0].replace('_', '-')}" if given else None
    model_flag = {"--C": "--channels", "--N": "--cells"}.get(model_flag, model_flag)
    with handle_errors():
        if output is not None:
            ensure_writable(output, "--output", is_dir=False)
        tcfg, mcfg, lcfg = _from_spec(spec_file, task, root) if spec_file else \
            (TaskConfig(task, root=root) if task else None, None, LatencyConfig())
    if latency_table is not None:
        lcfg = lcfg.model_copy(update={"table": str(latency_table)})
    if mcfg is not None or given:
        mcfg = replace(mcfg or ModelConfig(), **{k: options[k] for k in given})
    kwargs = dict(genome=genome_name, seed=seed, num_classes=classes,
                  input_shape=_shape(input_shape) if input_shape else None, task=tcfg, model=mcfg)
    with handle_errors(), _as_flags(model_flag):
        if target == "summary" and output is None:
            click.echo(summary_text(load_network(file, **kwargs), lcfg), nl=False)
            return
        written = compile_genome(file, target, output, latency=lcfg, **kwargs)
    for path in written:
        out.print(f"wrote {path}")


def _from_spec(spec_file: Path, task: str | None, root: str | None):
    """A spec's task (the options --task/--root win), model and latency configs."""
    from genelang.evolve.spec.schema import load_spec
    spec = load_spec(spec_file)
    tcfg, mcfg = spec.configs()
    if task:
        tcfg = replace(tcfg, name=task, root=root)
    elif root:
        tcfg = replace(tcfg, root=root)
    return tcfg, mcfg, spec.fitness.latency


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
            ensure_writable(output, "--output", is_dir=False)
    if output:
        atomic_write(output, text)
        out.print(f"wrote {output}")
    else:
        click.echo(text, nl=False)
