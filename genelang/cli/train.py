"""`genelang train`: train one genome on a task and report metrics."""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click
from rich.table import Table

from genelang.cli.group import cli
from genelang.cli._common import ensure_writable, err, handle_errors, out, sigterm_as_interrupt, skeleton_option
from genelang.runtime.devices import PRECISIONS


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--genome", "genome_name", help="Genome to train (default: the only one in FILE).")
@click.option("--task", default="fashion-mnist", show_default=True,
              help="fashion-mnist, digits, cifar10, cifar100, image-folder (conv genomes); "
                   "text-classification, lm, conll2003, ucr, forecast (rnn genomes).")
@click.option("--root", help="Data directory for tasks that read from a path.")
@click.option("--skip-bad-images", is_flag=True,
              help="image-folder: leave out (and count) files that are no readable image, instead of refusing "
                   "the tree.")
@click.option("--dataset", help="ucr: a UCR/UEA set (default ItalyPowerDemand); "
                                 "forecast: sunspots, nile, elnino, co2 or airline (default sunspots).")
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(1))
@click.option("--subset", type=click.IntRange(1),
              help="Use only this many training samples (image tasks then validate on at most SUBSET/4 of the "
                   "held-out images).")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1))
@click.option("--lr", type=click.FloatRange(0, min_open=True), help="Learning rate [default: 0.05 SGD for images, 0.003 Adam for text].")
@click.option("--seed", default=0, show_default=True, type=int)
@skeleton_option
@click.option("--channels", "C", default=16, show_default=True, type=click.IntRange(2),
              help="Channels C of the first cells.")
@click.option("--cells", "N", default=1, show_default=True, type=click.IntRange(1),
              help="Normal cells per stage (nasgep skeleton).")
@click.option("--layers", default=8, show_default=True, type=click.IntRange(3),
              help="Cells in all (darts skeleton).")
@click.option("--auxiliary", is_flag=True, help="DARTS auxiliary head (weight 0.4; images of 32x32 or larger).")
@click.option("--drop-path", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--channels-last/--no-channels-last", default=None,
              help="Memory format of the training: channels_last by default on the CPU (small candidates train "
                   "1.6-1.8x faster there; genelang works around the three defects torch 2.14's oneDNN has in it), "
                   "the default layout on a GPU. Never applied below 4 channels, nor with bf16 on the CPU to "
                   "networks with dilated depthwise convs, whose gradients oneDNN gets wrong "
                   "(docs/channels_last.md).")
@click.option("--compile", "compile_backend", is_flag=False, flag_value="inductor", default=None,
              type=click.Choice(["inductor", "eager", "aot_eager"]), metavar="[BACKEND]",
              help="Train through torch.compile (default backend inductor; compiling takes about a minute "
                   "on a GPU, several on a 2-core CPU).")
@click.option("--augment/--no-augment", default=None,
              help="Image tasks: random pad-crop and horizontal flip [default: on for cifar10/cifar100/"
                   "image-folder, off otherwise].")
@click.option("--cutout", default=0, show_default=True, type=click.IntRange(0),
              help="Image tasks: cutout square side in pixels (0: off; DARTS uses 16 on CIFAR).")
@click.option("--devices", "devices", default=None, metavar="cpu|auto|N[,N...]",
              help="Where to train: cpu (the default), auto (a GPU if there is one, else the CPU) or GPU "
                   "indices (training uses the first).")
@click.option("--accelerator", type=click.Choice(["cpu", "gpu", "auto"]), default=None, hidden=True,
              help="The older spelling of --devices: gpu is --devices 0.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=None,
              help="32, bf16-mixed (autocast to bfloat16; CPU and GPU) or 16-mixed (float16; GPU only) "
                   "[default: 32].")
@click.option("--vectors", type=click.Path(dir_okay=False),
              help="Text tasks: word vectors (word2vec text/binary, GloVe, fastText .vec).")
@click.option("--finetune-embeddings", is_flag=True,
              help="Text tasks: train the word vectors too (default: frozen).")
@click.option("--hidden", default=64, show_default=True, type=click.IntRange(1),
              help="rnn state width; transformer model width.")
@click.option("--heads", default=4, show_default=True, type=click.IntRange(1),
              help="transformer attention heads (--hidden must divide by them).")
@click.option("--ffn", default=128, show_default=True, type=click.IntRange(1), help="transformer feed-forward width.")
@click.option("--rnn-layers", default=1, show_default=True, type=click.IntRange(1),
              help="rnn layers or transformer blocks stacked.")
@click.option("--bidirectional", is_flag=True)
@click.option("--dropout", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--test", "with_test", is_flag=True, help="Also evaluate on the test set.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the trained model, metrics.json and logs.")
@click.option("--spec", "spec_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Take the task, the model and the learning rate from a search spec (e.g. RUN_DIR/spec.yaml), "
                   "so a searched genome trains as it was evaluated; options given here still win, and "
                   "the whole training set is used unless --subset says otherwise.")
@click.option("--json", "as_json", is_flag=True, help="Print metrics as JSON only.")
@click.option("--verbose", is_flag=True, help="Show Lightning's messages and library warnings.")
@click.option("--candidate", default=None, metavar="ID|best",
              help="With FILE a run directory: retrain this stored evaluation (its id in `status --csv`, or "
                   "best) exactly as the search evaluated it: its task, model, learning rate, seed and torch "
                   "threads; whatever it cannot match is printed as a warning.")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="Torch threads (default: torch's, the machine's cores; with --candidate, the search's).")
@click.pass_context
def train(ctx, file, genome_name, task, root, skip_bad_images, dataset, epochs, subset, batch_size, lr, seed, skeleton, C, N,
          layers, auxiliary, drop_path, channels_last, compile_backend, augment, cutout, devices, accelerator,
          precision, vectors, finetune_embeddings, hidden, heads, ffn, rnn_layers, bidirectional, dropout, with_test,
          out_dir, spec_file, as_json, verbose, candidate, threads) -> None:
    """Train a genome on a task with PyTorch Lightning (CPU by default).

    FILE is a .gene file, or a search's run directory: `genelang train RUN_DIR
    --candidate best` retrains a stored candidate exactly as it was evaluated
    (same seed and torch threads, same fitness; a warning says what cannot
    match, e.g. another --threads or --epochs). After a search: `genelang train
    RUN_DIR/best.gene --spec RUN_DIR/spec.yaml --epochs 10 --test --out
    trained/`, then `genelang compile trained/ --to torchscript` ships the
    trained network.
    """
    from genelang.compiler import load_file
    from genelang.runtime.noise import quiet
    from genelang.runtime.config import ModelConfig, TaskConfig
    from genelang.runtime.task_data import task_data
    from genelang.runtime.train import train_genome

    with handle_errors(as_json):
        device = training_device(devices or _OLD_ACCELERATOR[accelerator or "cpu"])
    if file.is_dir() or candidate is not None:
        own_epochs = ctx.get_parameter_source("epochs") is not click.core.ParameterSource.DEFAULT
        _retrain(file, candidate or "best", epochs if own_epochs else None, out_dir, with_test, as_json, verbose,
                 device, threads)
        return
    if threads:
        import torch
        torch.set_num_threads(threads)
    with handle_errors(as_json):
        genome = load_file(file).genome(genome_name)
        tcfg = TaskConfig(task, root=root, subset=subset, batch_size=batch_size, vectors=vectors,
                          augment=augment, cutout=cutout, dataset=dataset, skip_bad_images=skip_bad_images)
        mcfg = ModelConfig(skeleton, C=C, N=N, layers=layers, auxiliary=auxiliary, drop_path=drop_path,
                           hidden=hidden, heads=heads, ffn=ffn, rnn_layers=rnn_layers, bidirectional=bidirectional,
                           dropout=dropout,
                           freeze_embeddings=not finetune_embeddings,
                           channels_last=channels_last, compile=compile_backend)
        if spec_file:
            tcfg, mcfg, lr = _from_spec(ctx, spec_file, tcfg, mcfg, lr, genome.space)
            if not as_json:
                out.print(f"seed {seed} (the search trained each candidate with its own seed: "
                          "`genelang train RUN_DIR --candidate ID|best` reproduces one exactly)")
        task = tcfg.name
        data, _ = task_data(tcfg)   # missing data fails here, before any model is built
        _say_skipped(getattr(data, "skipped", ()))
        _preflight(genome, tcfg, mcfg, data, device, precision, out_dir)
        with quiet(verbose), _kept_on_interrupt(f"{genome.name} on {task}", as_json), sigterm_as_interrupt():
            result = train_genome(genome, tcfg, mcfg, epochs=epochs, lr=lr, seed=seed, quiet=as_json,
                                  out_dir=out_dir, test=with_test, device=device, precision=precision)
    _report(result, f"{genome.name} on {task}", out_dir, as_json)


@contextlib.contextmanager
def _kept_on_interrupt(title: str, as_json: bool):
    """Ctrl-C (or SIGTERM) in training: report the epochs that finished and what
    was kept of them, then exit 130 as an interrupted command does."""
    from genelang.runtime.train import TrainingInterrupted
    try:
        yield
    except TrainingInterrupted as stop:
        done = stop.result
        if done.epochs:
            _report(done, f"{title}: {done.epochs} of {stop.epochs} epoch(s), interrupted", None, as_json)
        kept = (f"kept the model of epoch {done.epochs}, its genome and metrics.json (marked interrupted) in "
                f"{stop.saved}" if stop.saved else
                "nothing saved (no --out)" if done.epochs else "no epoch had finished: nothing kept")
        err.print(f"interrupted after {done.epochs} of {stop.epochs} epoch(s): {kept}", markup=False)
        sys.exit(130)


def _say_skipped(files: tuple[str, ...]) -> None:
    """--skip-bad-images: how many files were left out, and which (on stderr, so --json stays one document)."""
    if files:
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        err.print(f"[yellow]warning[/yellow]: skipped {len(files)} unreadable image(s): {shown}")


_OLD_ACCELERATOR = {"cpu": "cpu", "gpu": "0", "auto": "auto"}


def training_device(devices: str) -> str:
    """The device `--devices` names for one training: the first of its list."""
    from genelang.runtime.devices import parse_devices, resolve_devices
    return resolve_devices(parse_devices(devices))[0]


def _retrain(run_dir: Path, candidate: str, epochs: int | None, out_dir, with_test: bool, as_json: bool,
             verbose: bool, device: str, threads: int | None) -> None:
    from genelang.evolve.run.runs import retrain
    from genelang.runtime.noise import quiet
    with handle_errors(as_json):
        if candidate != "best" and not candidate.isdigit():
            from genelang.errors import GenelangError
            raise GenelangError.at("option", f"--candidate {candidate!r}: an evaluation id or 'best'", "--candidate")
        with quiet(verbose), _kept_on_interrupt(f"candidate {candidate} of {run_dir}", as_json), \
                sigterm_as_interrupt():
            done = retrain(run_dir, candidate, out_dir=out_dir, test=with_test, quiet=as_json, epochs=epochs,
                           device=device, threads=threads)
    chosen = done.evaluation
    if not as_json:
        scored = f"{chosen.fitness:.6g}" if chosen.fitness is not None else f"nothing ({chosen.status})"
        out.print(f"candidate {chosen.id} (generation {chosen.generation}), seed {done.seed}, "
                  f"{done.threads or 'default'} torch thread(s); the search scored it {scored}")
    for caveat in done.caveats:   # on stderr, so --json stays one document
        err.print(f"[yellow]warning[/yellow]: may not reproduce the search's number: {caveat}")
    _report(done.result, f"candidate {chosen.id} of {run_dir}", out_dir, as_json)


def _report(result, title: str, out_dir, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"metrics": result.metrics, "params": result.params,
                          "seconds": result.seconds}, indent=2))
        return
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in sorted(result.metrics.items()):
        if k.endswith("_step"):
            continue
        table.add_row(k, f"{v:.4f}")
    table.add_row("parameters", f"{result.params:,}")
    table.add_row("seconds", f"{result.seconds:.1f}")
    table.add_row("seconds per epoch", f"{result.seconds / max(1, result.epochs):.1f}")
    out.print(table)
    if out_dir:
        out.print(f"saved model, genome and metrics.json to {out_dir}")


def _preflight(genome, tcfg, mcfg, data, device: str, precision: str | None, out_dir: Path | None) -> None:
    """What would otherwise fail with a traceback after minutes: checked before training."""
    from genelang.compiler.transformer_space import TRANSFORMER
    from genelang.errors import GenelangError
    from genelang.runtime.transformer import heads_mismatch
    if genome.space == TRANSFORMER and (problem := heads_mismatch(mcfg.hidden, mcfg.heads)) is not None:
        raise GenelangError.at("heads", problem, "--heads", hint="give a --hidden that --heads divides")
    from genelang.runtime.devices import lightning_precision
    lightning_precision(precision, device)
    if out_dir is not None:
        ensure_writable(out_dir, "--out")
    if mcfg.auxiliary and hasattr(data, "image_size"):
        # DARTS's auxiliary head pools 5x5 windows of the maps after the second
        # reduction, so it needs them at least 8x8: images of 32x32 or more
        side = -(-(-(-data.image_size // 2)) // 2)
        if side < 8:
            raise GenelangError.at("auxiliary", f"the auxiliary head needs 32x32 or larger images; {tcfg.name} "
                                   f"has {data.image_size}x{data.image_size}", "--auxiliary",
                                   hint="drop --auxiliary (it is meant for CIFAR-sized inputs)")


# train option -> (config, field) a search spec also sets
_SPEC_FIELDS = {"task": ("task", "name"), "root": ("task", "root"), "dataset": ("task", "dataset"),
                "skip_bad_images": ("task", "skip_bad_images"),
                "batch_size": ("task", "batch_size"), "vectors": ("task", "vectors"),
                "augment": ("task", "augment"), "cutout": ("task", "cutout"),
                "skeleton": ("model", "skeleton"), "C": ("model", "C"), "N": ("model", "N"),
                "layers": ("model", "layers"), "hidden": ("model", "hidden"), "heads": ("model", "heads"),
                "ffn": ("model", "ffn"), "rnn_layers": ("model", "rnn_layers"), "dropout": ("model", "dropout"),
                "finetune_embeddings": ("model", "freeze_embeddings")}


def _from_spec(ctx, spec_file, tcfg, mcfg, lr, space):
    """Configs from a search spec, except where an option was given explicitly."""
    from dataclasses import replace

    from genelang.evolve.spec.schema import load_spec

    spec = load_spec(spec_file)
    spec_task, spec_model = spec.configs()
    given = {p for p in _SPEC_FIELDS if ctx.get_parameter_source(p) is not click.core.ParameterSource.DEFAULT}
    take = {"task": {}, "model": {}}
    for param, (which, field) in _SPEC_FIELDS.items():
        if param not in given:
            take[which][field] = getattr(spec_task if which == "task" else spec_model, field)
    tcfg = replace(tcfg, val=spec_task.val, **take["task"])
    mcfg = replace(mcfg, **take["model"])
    if lr is None:
        from genelang.evolve.estimators.builtin import training_lr
        lr = training_lr(spec, None)
    return tcfg, mcfg, lr
