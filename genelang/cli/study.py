"""Study commands: ablate (and, with the training stack, sample and compare)."""
from __future__ import annotations

import math
from pathlib import Path

import click
from rich.markup import escape

from genelang.cli.group import cli
from genelang.cli._common import ensure_writable, handle_errors, out, skeleton_option
from genelang.compiler import load_file
from genelang.runtime.config import ModelConfig
from genelang.runtime.devices import PRECISIONS, parse_devices
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
      drop-edges            one variant per input edge of a binary node dropped
      add-edge:OP(INPUT)    one variant per ADF (rnn: and state) with + OP(INPUT)
      one-activation:ACT    every activation replaced by ACT (rnn)
      swap-cells            normal and reduction cells swapped (conv)

    Variants that are invalid in the space are reported and not written;
    variants identical to the original or to another variant are skipped.
    """
    with handle_errors():
        genome = load_file(file).genome(genome_name)
        ensure_writable(out_dir, "--out")
        result = ablate_genome(genome, list(edits), out_dir, source=str(file))
    # descriptions name rnn terminals such as h[t-1], which rich would read as markup
    for path, v in result.written:
        out.print(f"[green]wrote[/green] {path}  [dim]{escape(v.description)}[/dim]")
    for v, reasons in result.rejected:
        out.print(f"[yellow]invalid[/yellow] {escape(v.name)}: {escape(v.description)} — {escape(reasons[0])}")
    for v in result.duplicates:
        out.print(f"[dim]same network as another variant: {escape(v.name)}[/dim]")
    for edit in result.unmatched:
        out.print(f"[yellow]no change[/yellow]: {edit} matches nothing in genome {genome.name}")
    out.print(f"{len(result.written)} variant(s) written, {len(result.rejected)} invalid, "
              f"{len(result.duplicates)} duplicate(s)")


ablate.epilog = EDIT_HELP


def _group(value: str) -> tuple[str, Path]:
    if "=" not in value:
        raise click.BadParameter(f"{value!r}: expected NAME=DIR")
    name, d = value.split("=", 1)
    return name, Path(d)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group", "groups", multiple=True, metavar="NAME=DIR",
              help="A group of genomes: every .gene file in DIR. Repeatable.")
@click.option("--task", default="fashion-mnist", show_default=True)
@click.option("--root", help="Data directory for tasks that read from a path.")
@click.option("--seeds", default=5, show_default=True, type=click.IntRange(2))
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(1))
@click.option("--subset", type=click.IntRange(1), help="Training samples per run.")
@click.option("--lr", default=0.05, show_default=True, type=float)
@click.option("--channels", "C", default=ModelConfig.C, show_default=True, type=click.IntRange(2))
@click.option("--cells", "N", default=ModelConfig.N, show_default=True, type=click.IntRange(1))
@skeleton_option
@click.option("--layers", default=ModelConfig.layers, show_default=True, type=click.IntRange(3))
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0),
              help="Parallel training processes (0: in this process).")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="Torch threads per training (default: the cores shared among the workers).")
@click.option("--devices", default="cpu", show_default=True, metavar="cpu|auto|N[,N...]",
              help="Where the trainings run: the CPU, every GPU (auto; the CPU if none), or GPU indices; "
                   "with GPUs, four trainings share each one unless --workers says otherwise.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=None,
              help="32, bf16-mixed (CPU and GPU) or 16-mixed (GPU only) [default: 32].")
@click.option("--out", "out_dir", default="compare", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--verbose", is_flag=True, help="Show library warnings (e.g. numerical ones from the tests).")
def compare(files, groups, task, root, seeds, epochs, subset, lr, C, N, skeleton, layers, workers, threads,
            devices, precision, out_dir, as_json, verbose) -> None:
    """Train genomes over seeds and compare them with statistics.

    Every genome trains on seeds 0..SEEDS-1 with the same data split and
    schedule. Reports mean ± std, 95% CI, parameters and multiply-adds per
    genome; pairwise Welch t-tests and Mann–Whitney U tests with Holm's
    correction and Cohen's d; a box/strip plot (OUT/compare.png). Finished
    trainings are stored in OUT/compare.sqlite: a rerun (or one with more
    seeds) trains only what is missing. With --group, genomes are compared as
    groups (each genome's mean over seeds is one observation).

    A 95% CI needs at least 3 observations (seeds, or genomes in a group);
    with fewer none is given. Accuracy intervals are clipped to [0, 1]. Giving
    a file twice, or two genomes the same label, is an error.
    """
    import json

    from rich.progress import Progress
    from rich.table import Table

    from genelang.runtime.noise import quiet
    from genelang.study.compare import compare as run_compare, entries_from
    from genelang.study.stats import MIN_N_FOR_CI

    if not files and not groups:
        raise click.UsageError("give genome files and/or --group NAME=DIR")
    with handle_errors(as_json), quiet(verbose):
        entries = entries_from(list(files), [_group(g) for g in groups])
        ensure_writable(out_dir, "--out")
        model = {"skeleton": skeleton, "C": C, "N": N, "layers": layers}
        kwargs = dict(task=task, seeds=seeds, epochs=epochs, subset=subset, root=root, model=model,
                      workers=workers, threads=threads, lr=lr, out_dir=out_dir, devices=parse_devices(devices),
                      precision=precision)
        if as_json:
            res = run_compare(entries, **kwargs)
        else:
            with Progress(console=out) as p:
                bar = p.add_task("training", total=None)
                res = run_compare(entries, progress=lambda d, n: p.update(bar, completed=d, total=n), **kwargs)

    def clean(x):
        return None if isinstance(x, float) and math.isnan(x) else x

    if as_json:
        print(json.dumps({
            "summaries": [{k: clean(v) for k, v in vars(s).items()} | {"params": res.params.get(s.label),
                                                                         "macs": res.macs.get(s.label)}
                          for s in res.summaries],
            "pairs": [{k: clean(v) for k, v in vars(p).items()} for p in res.pairs],
            "groups": [{k: clean(v) for k, v in vars(s).items()} for s in res.group_summaries],
            "group_pairs": [{k: clean(v) for k, v in vars(p).items()} for p in res.group_pairs],
            "standings": [{"genome": l, "group": g, "beats": share} for l, g, share in res.standings],
            "trained": res.trained, "reused": res.reused, "plot": str(res.plot) if res.plot else None},
            indent=2))
        return
    t = Table(title=f"validation accuracy on {task} ({seeds} seeds)")
    for col in ("genome", "n", "mean ± std", "95% CI", "params", "MACs"):
        t.add_column(col, justify="left" if col == "genome" else "right")
    for s in res.summaries:
        t.add_row(s.label, str(s.n), f"{s.mean:.4f} ± {s.std:.4f}", _ci(s),
                  f"{res.params.get(s.label, 0):,}", f"{res.macs.get(s.label, 0):,}")
    out.print(t)
    for title, pairs in (("pairwise (over seeds)", res.pairs), ("groups (over genomes)", res.group_pairs)):
        if not pairs:
            continue
        pt = Table(title=f"{title}: Welch t / Mann–Whitney U, Holm-adjusted p")
        for col in ("a", "b", "Δ mean", "Welch p (Holm)", "MWU p (Holm)", "Cohen's d"):
            pt.add_column(col)
        for p in pairs:
            pt.add_row(p.a, p.b, f"{p.diff:+.4f}", f"{p.welch_p_holm:.3g}", f"{p.mannwhitney_p_holm:.3g}",
                       f"{p.cohens_d:.2f}")
        out.print(pt)
    if res.group_summaries:
        gt = Table(title="groups (one observation per genome)")
        for col in ("group", "genomes", "mean ± std", "95% CI"):
            gt.add_column(col)
        for s in res.group_summaries:
            gt.add_row(s.label, str(s.n), f"{s.mean:.4f} ± {s.std:.4f}", _ci(s))
        out.print(gt)
    if any(s.n < MIN_N_FOR_CI for s in [*res.summaries, *res.group_summaries]):
        out.print(f"no 95% CI (—) where n < {MIN_N_FOR_CI}: too few observations for an interval to mean "
                  "anything; use more --seeds (or more genomes per group)")
    for label, group, share in res.standings:
        out.print(f"{label} beats {share:.0%} of the genomes of group {group}")
    out.print(f"trained {res.trained}, reused {res.reused} stored run(s); plot: {res.plot}")


def _ci(s) -> str:
    return "—" if math.isnan(s.ci_low) else f"[{s.ci_low:.4f}, {s.ci_high:.4f}]"


@cli.command()
@click.argument("spec_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--n", "n", default=100, show_default=True, type=click.IntRange(1))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, help="Default: the spec's run.seed.")
def sample(spec_file: Path, n: int, out_dir: Path, seed: int | None) -> None:
    """Write N random valid genomes (distinct networks) of a spec's search space."""
    from genelang.evolve.spec.schema import load_spec
    from genelang.study.sample import write_sample
    with handle_errors():
        spec = load_spec(spec_file)
        ensure_writable(out_dir, "--out")
        paths = write_sample(spec, n, out_dir, seed)
    out.print(f"wrote {len(paths)} genome(s) to {out_dir}")
