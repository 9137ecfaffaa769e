"""A network as `genelang train --out DIR` left it: the genome, the task and
model configs from DIR/metrics.json and the weights from DIR/model.pt, built
the way training built it (so exports ship the trained network, not a fresh
one), with the input preprocessing training used."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.errors import GenelangError
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.preprocess import Preprocess

# what `train --out` writes; an export never takes one of these names
TRAINING_FILES = ("metrics.json", "model.pt", "genome.gene")


@dataclass
class Trained:
    model: nn.Module            # eval mode, trained weights; takes standardised input
    example: torch.Tensor       # a batch of 2 training inputs (standardised)
    genome: Genome
    task: TaskConfig
    preprocess: Preprocess
    config: ModelConfig         # what built `model`


def load_trained(run: Path, genome_name: str | None = None) -> Trained:
    """The trained network in `run`: its genome from run/genome.gene
    (`genome_name`, or the only one)."""
    from genelang.compiler import load_file
    from genelang.runtime.models import make_model
    from genelang.runtime.task_data import sample_batch, task_data

    for name in TRAINING_FILES:
        if not (run / name).exists():
            raise GenelangError.at("trained", f"not a `genelang train --out` directory: no {name}", str(run),
                                   hint="train with `genelang train FILE --task NAME --out DIR` first")
    try:
        saved = json.loads((run / "metrics.json").read_text())
        task, model = TaskConfig(**saved["task"]), ModelConfig(**saved["model"])
    except (ValueError, KeyError, TypeError) as err:
        raise GenelangError.at("trained", f"unreadable metrics.json ({err})", str(run / "metrics.json")) from None
    genome = load_file(run / "genome.gene").genome(genome_name)
    net = make_model(genome, task, model)
    state = torch.load(run / "model.pt", map_location="cpu", weights_only=True)
    try:
        net.load_state_dict(state)
    except RuntimeError:
        raise GenelangError.at("trained", f"model.pt does not fit genome {genome.name!r}", str(run / "model.pt"),
                               hint="export the genome that was trained: its genome.gene") from None
    # The recorded statistics win; directories written before they were
    # recorded get them from the task's data, which computes the same numbers.
    pre = Preprocess.of(task_data(task)[0])
    stored = saved.get("preprocess") or {}
    if stored.get("mean"):
        pre = Preprocess(tuple(stored["mean"]), tuple(stored["std"]), pre.vocab)
    return Trained(net.eval(), sample_batch(task)[0][:2], genome, task, pre, model)
