"""Truncated backpropagation through time for a recurrent language model
(ENAS, AWD-LSTM): the token stream is cut into `batch` parallel streams and
each stream into segments of the task's window (35 tokens); segment k+1 of a
stream continues segment k, so the hidden state a segment ends with starts
the next one — carried across batches, detached at each boundary so the
gradient stops there. Each epoch starts from zero states.

GEP cells need not squash their state (`h = linear h[t-1]` is a linear
recurrence), so as ENAS's shared RNN does, each state is clipped to norm
`MAX_STATE_NORM` per sample at every step, and a path whose loss is not finite
is skipped (no gradient, its state not carried): one exploding path must not
poison weights every path shares.

Dropout is ENAS's variational ("locked") kind: one mask per sequence, the
same at every step, on the embeddings and on each recurrent layer's output
(Pham et al.'s `dropouti` and `dropout`; their DropConnect on the recurrent
matrices is not applied). Models are `SequenceModel`s of recurrent layers
(`runtime.sequence`): the stand-alone network of an rnn genome, or its path
through the rnn supernet.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List

import torch
import torch.nn.functional as F
from torch import nn

States = List[List[torch.Tensor]]     # per recurrent layer, its cell's states [B, hidden]


@dataclass(frozen=True)
class Streams:
    """Segments [S, B, T] of `B` parallel streams: `x[k][j]` continues `x[k-1][j]`."""
    x: torch.Tensor
    y: torch.Tensor

    @classmethod
    def of(cls, x: torch.Tensor, y: torch.Tensor, batch: int) -> "Streams":
        """From consecutive windows [N, T] (the lm task's rows, in text order):
        stream j is windows j·S .. j·S + S − 1, S = N // batch."""
        B = max(1, min(batch, len(x)))
        per = len(x) // B
        idx = torch.arange(per)[:, None] + per * torch.arange(B)[None, :]
        return cls(x[idx], y[idx])

    def __len__(self) -> int:
        return len(self.x)


def locked_dropout(h: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout of [B, T, F] with one mask per sequence, shared by all its steps."""
    if not training or p == 0:
        return h
    mask = h.new_empty(h.size(0), 1, h.size(2)).bernoulli_(1 - p) / (1 - p)
    return h * mask


MAX_STATE_NORM = 25.0     # ENAS's shared RNN (carpedm20/ENAS-pytorch, models/shared_rnn.py)


def clip_norm(v: torch.Tensor, max_norm: float = MAX_STATE_NORM) -> torch.Tensor:
    """Each row scaled down to norm `max_norm` where it is longer."""
    # the norm with an epsilon: its gradient at a zero state (every state at t=0) is 0, not NaN
    norm = (v.pow(2).sum(-1, keepdim=True) + 1e-12).sqrt()
    return v * (max_norm / norm.clamp_min(max_norm))


def run_lm(model: nn.Module, x: torch.Tensor, states: States | None,
           dropout: float = 0.0) -> tuple[torch.Tensor, States]:
    """Logits [B, T, vocab] for tokens `x` [B, T] starting from `states` (None:
    zeros), and the states the segment ends with (still attached to the graph)."""
    h = locked_dropout(model.embed(x), dropout, model.training)
    ends: States = []
    for i, layer in enumerate(model.rnn):
        cell = layer.forward_dir.cell
        s = states[i] if states is not None else cell.initial_states(x.size(0), h)
        outs = []
        for t in range(x.size(1)):
            s = [clip_norm(v) for v in cell(h[:, t], s)]
            outs.append(s[0])
        ends.append(s)
        h = locked_dropout(torch.stack(outs, 1), dropout, model.training)
    return model.out(h), ends


def init_lm(model: nn.Module, scale: float = 0.1) -> nn.Module:
    """ENAS's (and the PyTorch word-language-model's) start: embedding uniform in
    ±`scale`, output bias zero. The default N(0, 1) embedding, tied to the output
    layer, gives logits of tens at init (a loss above 20 on 10,000 words)."""
    nn.init.uniform_(model.embed.weight, -scale, scale)
    nn.init.zeros_(model.out.bias)
    return model


def detach(states: States) -> States:
    return [[s.detach() for s in layer] for layer in states]


def _loss(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction=reduction)


class TBPTT:
    """The training objective over `streams`: `step(models, k)` trains every
    model of a group on segment k (mod the epoch) from the carried state and
    carries the first model's end state, detached. As in ENAS, one state is
    carried whichever architecture trains next. Dropout masks derive from
    (seed, step), so a resumed training repeats an uninterrupted one."""

    def __init__(self, streams: Streams, dropout: float = 0.0, seed: int = 0):
        self.streams, self.dropout, self.seed = streams, dropout, seed
        self.states: States | None = None
        self.skipped = 0          # paths whose loss was not finite

    def step(self, models: list[nn.Module], step: int, device: str = "cpu") -> float:
        """Backward of each model's loss (gradients accumulate); the summed loss."""
        k = step % len(self.streams)
        if k == 0:
            self.states = None
        x, y = self.streams.x[k].to(device), self.streams.y[k].to(device)
        total, carried = 0.0, None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1_000_003 + step)
            for model in models:
                logits, ends = run_lm(model, x, self.states, self.dropout)
                loss = _loss(logits, y)
                if not torch.isfinite(loss):
                    self.skipped += 1
                    continue
                loss.backward()
                total += loss.item()
                carried = carried if carried is not None else detach(ends)
        self.states = carried
        return total

    def state_dict(self) -> dict:
        return {"states": self.states}

    def load_state_dict(self, state: dict) -> None:
        self.states = state.get("states")


@torch.no_grad()
def perplexity(model: nn.Module, streams: Streams, device: str = "cpu") -> float:
    """exp(mean cross-entropy) over every token of `streams`, the state carried
    from segment to segment, in eval mode (no dropout)."""
    model.eval()
    states, total, count = None, 0.0, 0
    for k in range(len(streams)):
        x, y = streams.x[k].to(device), streams.y[k].to(device)
        logits, states = run_lm(model, x, states)
        total += _loss(logits, y, "sum").item()
        count += y.numel()
    return math.exp(total / count)


def train_alone(model: nn.Module, train: Streams, val: Streams, *, steps: int, lr: float, dropout: float = 0.0,
                grad_clip: float = 0.25, seed: int = 0) -> float:
    """Stand-alone training of one model by TBPTT (`steps` segments, SGD with
    momentum 0.9 as the supernet's, cosine learning rate, gradient norm
    clipped, a step with a non-finite gradient skipped); its validation perplexity."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    objective = TBPTT(train, dropout, seed)
    model.train()
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        objective.step([model], step)
        if torch.isfinite(nn.utils.clip_grad_norm_(model.parameters(), grad_clip)):
            opt.step()      # as the supernet's training: a non-finite gradient is not applied
        sched.step()
    return perplexity(model, val)
