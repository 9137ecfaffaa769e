"""From a genome to the files a user ships: `compile_genome`, what
`genelang compile` calls.

    compile_genome("best.gene", "torchscript")                  # fresh weights
    compile_genome("best.gene", "torchscript", task="digits")   # built for a task, its normalisation inside
    compile_genome("trained/", "python")                        # the network `train --out trained/` trained

Default outputs (OUT) sit beside the .gene file, or inside the trained
directory, named after the genome: GENOME.pt (torchscript), GENOME.pt2
(export), GENOME.onnx, GENOME.py with GENOME.weights.pt (python), GENOME.dot,
GENOME.summary.txt. Text networks also get OUT's stem + .vocab.json (token →
id). Targets never write over each other or over the training's own files.

Inputs: a trained image network, or one built for a task, takes images as
float tensors in [0, 1] (N×C×H×W, as the task reads them) and standardises
them with the training set's mean and std itself. A network built without a
task has no preprocessing: it takes whatever the caller feeds it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from genelang.atomic import atomic_write
from genelang.compiler.ast import Genome
from genelang.compiler.registry import get_space
from genelang.errors import GenelangError
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.preprocess import Preprocess, with_preprocess
from genelang.runtime.summary import PartCost, summarize
from genelang.suggest import with_hint

TARGETS = ("torchscript", "export", "onnx", "python", "dot", "summary")
SUFFIX = {"torchscript": ".pt", "export": ".pt2", "onnx": ".onnx", "python": ".py", "dot": ".dot",
          "summary": ".summary.txt"}


@dataclass
class Network:
    net: nn.Module              # eval mode; takes what training fed it
    module: nn.Module           # `net` behind its preprocessing: takes raw input
    example: torch.Tensor       # a raw input batch of 2, the shape the network reads
    net_input: torch.Tensor     # the same batch as `net` takes it
    genome: Genome
    preprocess: Preprocess
    home: Path                  # where default outputs go
    model: ModelConfig          # what built `net` (the latency table's entries are keyed by it)
    trained: bool = False

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.example.shape[1:])


def load_network(source: str | Path | Genome, *, genome: str | None = None, model: ModelConfig | None = None,
                 task: TaskConfig | str | None = None, num_classes: int | None = None,
                 input_shape: tuple[int, ...] | None = None, seed: int | None = None) -> Network:
    """The network `source` describes: a `genelang train --out` directory (its
    trained weights; then no other argument but `genome` applies), a .gene
    file or a Genome (fresh weights from `seed`, built for `task` when given,
    else for `input_shape` and `num_classes`)."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        given = [k for k, v in (("model", model), ("task", task), ("num_classes", num_classes),
                                ("input_shape", input_shape), ("seed", seed)) if v is not None]
        if given:
            raise GenelangError.at("options", "a trained network's shape comes from its directory",
                                   f"{given[0]}=", hint="drop it, or compile the .gene file instead")
        return _trained(Path(source), genome)
    if isinstance(source, Genome):
        g, home = source, Path.cwd()
    else:
        from genelang.compiler import load_file
        g, home = load_file(Path(source)).genome(genome), Path(source).parent
    torch.manual_seed(0 if seed is None else seed)
    if task is not None:
        return _for_task(g, TaskConfig(task) if isinstance(task, str) else task, model or ModelConfig(),
                         home, num_classes, input_shape)
    from genelang.runtime.build import build_model
    shape = input_shape or get_space(g.space).example_input
    try:
        net, example = build_model(g, model or ModelConfig(), num_classes=num_classes or 10, input_shape=shape)
        with torch.no_grad():
            net(example)
    except (RuntimeError, ValueError) as err:
        raise GenelangError.at("shape", f"cannot build for input shape {shape}: {err}", "input_shape=") from None
    return Network(net, net, example, example, g, Preprocess(), home, model or ModelConfig())


def _trained(run: Path, genome: str | None) -> Network:
    from genelang.runtime.trained import load_trained
    t = load_trained(run, genome)
    return Network(t.model, with_preprocess(t.model, t.preprocess), _raw(t.example, t.preprocess), t.example,
                   t.genome, t.preprocess, run, t.config, trained=True)


def _for_task(g: Genome, task: TaskConfig, model: ModelConfig, home: Path, num_classes, input_shape) -> Network:
    from genelang.runtime.models import make_model
    from genelang.runtime.task_data import sample_batch, task_data
    if num_classes is not None or input_shape is not None:
        raise GenelangError.at("options", "a task sets the input shape and the classes",
                               "input_shape=" if input_shape is not None else "num_classes=",
                               hint="give either task= or input_shape= and num_classes=")
    pre = Preprocess.of(task_data(task)[0])
    net = make_model(g, task, model).eval()
    x = sample_batch(task)[0][:2]
    return Network(net, with_preprocess(net, pre), _raw(x, pre), x, g, pre, home, model)


def _raw(x: torch.Tensor, pre: Preprocess) -> torch.Tensor:
    """Training inputs back in the range a user has them (undoing the standardisation)."""
    if not pre.mean:
        return x
    shape = (1, -1) + (1,) * (x.dim() - 2)
    return x * torch.tensor(pre.std).view(shape) + torch.tensor(pre.mean).view(shape)


def compile_genome(source: str | Path | Genome, to: str, out: str | Path | None = None, *,
                   genome: str | None = None, model: ModelConfig | None = None,
                   task: TaskConfig | str | None = None, num_classes: int | None = None,
                   input_shape: tuple[int, ...] | None = None, seed: int | None = None,
                   latency: LatencyConfig | None = None) -> list[Path]:
    """Write `source`'s network as target `to` (one of TARGETS) to `out`
    (default: see the module docstring); the paths written, main file first.
    `latency`: the summary's latency table (see `summary_text`). The other
    arguments are load_network's."""
    if to not in TARGETS:
        raise GenelangError.at("target", f"unknown target {to!r}", "to=",
                               hint=with_hint(to, TARGETS, f"targets: {', '.join(TARGETS)}"))
    net = load_network(source, genome=genome, model=model, task=task, num_classes=num_classes,
                       input_shape=input_shape, seed=seed)
    dest = Path(out) if out is not None else net.home / f"{net.genome.name}{SUFFIX[to]}"
    written = _write(net, to, dest, latency)
    if net.trained:
        from genelang.runtime.trained import TRAINING_FILES
        for p in written:
            if p.parent.resolve() == net.home.resolve() and p.name in TRAINING_FILES:
                raise GenelangError.at("output", f"would overwrite the training's {p.name}", "out=",
                                       hint="choose another output name")
    for p, write in written.items():
        write(p)
    return list(written)


def _write(net: Network, to: str, dest: Path, latency: LatencyConfig | None) -> dict[Path, callable]:
    """Each path to write and how: planned first so that nothing is written
    when one of them may not be."""
    from genelang.runtime import export
    files: dict[Path, callable] = {}
    recurrent = get_space(net.genome.space).main_kind == "state"
    if to == "dot":
        from genelang.compiler.dot import render, to_dot
        text = to_dot(net.genome)
        files[dest] = (lambda p: render(text, p)) if dest.suffix in (".svg", ".png") else \
            (lambda p: atomic_write(p, text))
    elif to == "summary":
        text = summary_text(net, latency)
        files[dest] = lambda p: atomic_write(p, text)
    elif to == "torchscript":
        files[dest] = lambda p: export.to_torchscript(net.module, p)
    elif to == "export":
        files[dest] = lambda p: export.to_export(net.module, net.example, p)
    elif to == "onnx":
        files[dest] = lambda p: export.to_onnx(net.module, net.example, p)
    elif net.trained and recurrent:
        raise GenelangError.at("target", "the python target writes conv networks and single recurrent layers, "
                               "not a trained sequence model", "to=", hint="ship it as torchscript or export")
    else:
        files[dest] = lambda p: export.to_python(net.module, p, rnn_loop=not net.trained and recurrent)
        files[export.weights_path(dest)] = lambda p: None   # to_python writes it with the source
    if net.preprocess.vocab and to not in ("dot", "summary"):
        ids = net.preprocess.token_ids()
        files[dest.with_name(f"{dest.stem}.vocab.json")] = lambda p: atomic_write(p, json.dumps(ids, indent=0))
    return files


def summary_rows(net: Network) -> list[PartCost]:
    """Parameters and multiply-adds per part of the network, for one input."""
    try:
        return summarize(net.net, net.net_input)
    except (RuntimeError, ValueError) as err:
        raise GenelangError.at("shape", f"cannot run input shape {net.input_shape}: {err}", "input_shape=") from None


def summary_latency(net: Network, cfg: LatencyConfig) -> tuple[dict[str, float], str]:
    """Predicted ms per summary row from this device's latency table ({} when
    it lacks entries), and a line saying which table or what it lacks."""
    if net.net_input.dim() != 4:
        return {}, "latency: predicted for image networks only"
    from genelang.runtime.latency.parts import part_latency
    with torch.no_grad():
        num_classes = net.net(net.net_input[:1]).shape[-1]
    lat = part_latency(cfg, net.genome, net.model, num_classes, tuple(net.net_input.shape[1:]))
    return lat.ms, lat.note()


def summary_text(net: Network, latency: LatencyConfig | None = None) -> str:
    """The summary table; with `latency`, a column of predicted milliseconds
    per part (when this device's table has every entry) and a line about it."""
    rows = summary_rows(net)
    ms, note = summary_latency(net, latency) if latency else ({}, None)
    head = ("part", "parameters", "multiply-adds") + (("latency ms",) if ms else ())
    cells = [head] + [(r.name, f"{r.params:,}", f"{r.macs:,}")
                      + ((f"{ms[r.name]:.2f}" if r.name in ms else "",) if ms else ()) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = [f"{net.genome.name}: input {','.join(map(str, net.input_shape))}"]
    for c in cells:
        lines.append("  ".join([f"{c[0]:<{widths[0]}}", *(f"{v:>{w}}" for v, w in zip(c[1:], widths[1:]))]).rstrip())
    return "\n".join(lines + ([note] if note else [])) + "\n"
