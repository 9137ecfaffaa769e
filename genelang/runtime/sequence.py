"""Sequence models built from a sequence space's genome (its `sequence_layers`:
the rnn space's recurrent cell, the transformer space's encoder block).

`build_sequence_model(genome, head=...)` stacks `layers` recurrent layers
(optionally bidirectional, dropout between) over an input of either vocabulary
indices (an `nn.Embedding`, optionally initialised from pre-trained vectors and
frozen) or dense vectors (`input_size`). Heads and forward signatures:

- classify: `forward(x, lengths) -> [B, num_outputs]`, mean over the valid steps.
- tag:      `forward(x) -> [B, T, num_outputs]` (e.g. NER tags per token).
- lm:       `forward(x) -> [B, T, vocab]`; `tie_weights` shares the embedding
            and output matrices when their sizes agree.
- forecast: `forward(x) -> [B, num_outputs]` from the last step's output.
"""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.lower_rnn import RecurrentLayer, lower_rnn_cell
from genelang.compiler.registry import get_space
from genelang.runtime.config import ModelConfig
from genelang.runtime.tbptt import init_lm

HEADS = ("classify", "tag", "lm", "forecast")


class SequenceModel(nn.Module):
    def __init__(self, embed: nn.Module, rnn: nn.ModuleList, dropout: float, head: str,
                 out: nn.Linear):
        super().__init__()
        self.embed = embed
        self.rnn = rnn
        self.drop = nn.Dropout(dropout)
        self.head = head
        self.out = out

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(self.embed(x))
        for layer in self.rnn:
            h = self.drop(layer(h))
        return h

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        h = self.encode(x)
        if self.head == "classify":
            if lengths is None:
                pooled = h.mean(1)
            else:
                mask = (torch.arange(h.size(1), device=h.device)[None, :] < lengths[:, None]).to(h.dtype)
                pooled = (h * mask[:, :, None]).sum(1) / lengths.clamp_min(1)[:, None].to(h.dtype)
            return self.out(pooled)
        if self.head == "forecast":
            return self.out(h[:, -1])
        return self.out(h)


def recurrent_layers(genome: Genome, *, input_size: int, hidden: int, layers: int, bidirectional: bool,
                     causal: bool, model: ModelConfig) -> nn.ModuleList:
    """The rnn space's layers: the genome's cell run over time (a recurrence is causal already)."""
    out, width = nn.ModuleList(), input_size
    for _ in range(layers):
        cell = lower_rnn_cell(genome, width, hidden)
        back = lower_rnn_cell(genome, width, hidden) if bidirectional else None
        out.append(RecurrentLayer(cell, back))
        width = out[-1].out_size
    return out


def build_sequence_model(genome: Genome, *, head: str = "classify", input_size: int | None = None,
                         vocab_size: int | None = None, embeddings: torch.Tensor | None = None,
                         freeze_embeddings: bool = True, embed_dim: int = 64, hidden: int = 128,
                         num_outputs: int = 2, layers: int = 1, dropout: float = 0.0,
                         bidirectional: bool = False, tie_weights: bool = False,
                         model: ModelConfig = ModelConfig()) -> SequenceModel:
    """`model` carries what a space's layers read beyond these (a transformer's heads and FFN width)."""
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose from {HEADS}")
    if embeddings is not None:
        embed = nn.Embedding.from_pretrained(embeddings.float(), freeze=freeze_embeddings)
        width = embeddings.shape[1]
    elif vocab_size is not None:
        embed, width = nn.Embedding(vocab_size, embed_dim), embed_dim
    elif input_size is not None:
        embed, width = nn.Identity(), input_size
    else:
        raise ValueError("give input_size (dense input), vocab_size or embeddings")
    build = get_space(genome.space).builder("sequence_layers")
    rnn = build(genome, input_size=width, hidden=hidden, layers=layers, bidirectional=bidirectional,
                causal=head == "lm", model=model)
    width = rnn[-1].out_size
    n_out = vocab_size if head == "lm" else num_outputs
    if head == "lm" and n_out is None:
        raise ValueError("the lm head needs vocab_size")
    out = nn.Linear(width, n_out)
    tie_weights = tie_weights and getattr(rnn, "tie_output", True)
    if head == "lm" and tie_weights and isinstance(embed, nn.Embedding) and embed.weight.shape == out.weight.shape:
        out.weight = embed.weight
    model = SequenceModel(embed, rnn, dropout, head, out)
    # A learned, tied LM embedding starts small: at N(0, 1) a cell that passes
    # its input through unsquashed (h = layer_norm(x)) gives logits of tens and
    # Adam never recovers (validation perplexity ~1e17 after 2 epochs).
    return init_lm(model) if head == "lm" and embeddings is None and vocab_size is not None else model
