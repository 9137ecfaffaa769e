"""The network a task trains for a genome: its space's network for an image
task, a sequence model around its recurrent cell for a text or time-series
task."""
from __future__ import annotations

from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.registry import get_space
from genelang.errors import GenelangError
from genelang.runtime.build import space_network
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.task_data import is_sequence, load


def make_model(genome: Genome, task: TaskConfig, model: ModelConfig = ModelConfig()) -> nn.Module:
    """The genome's network for `task`: its space's network for an image task,
    a sequence model around its recurrent cell for a text or time-series task."""
    data = load(task)
    sequence = is_sequence(data)
    space = get_space(genome.space)
    if (space.modality == "sequence") != sequence:
        raise GenelangError.at("task", f"a {genome.space} genome cannot train on task {task.name!r}", "task=",
                               hint=f"{genome.space} genomes read {space.modality} data; "
                                    f"task {task.name!r} gives {'sequence' if sequence else 'image'} data")
    if not sequence:
        return space_network(genome, model, num_classes=data.num_classes, input_shape=tuple(data.train_x.shape[1:]))
    from genelang.runtime.sequence import build_sequence_model
    lm = data.kind == "lm"
    return build_sequence_model(
        genome, head=data.kind, vocab_size=len(data.vocab) if lm else None,
        embeddings=None if lm else data.embeddings, freeze_embeddings=model.freeze_embeddings,
        input_size=getattr(data, "input_size", None),
        embed_dim=model.hidden, hidden=model.hidden, num_outputs=data.num_classes,
        layers=model.rnn_layers, dropout=model.dropout, bidirectional=model.bidirectional,
        tie_weights=lm, model=model)
