"""PyTorch builders for the rnn space.

A builder is `(widths, hidden) -> (module, out_width)`: `widths` are the
operand widths (the input `x` has `input_size`, everything else `hidden`), the
module's forward takes the operands. Element-wise operations project an operand
whose width is not `hidden` with a bias-free Linear first (docs/semantics.md).
"""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler.opsets import RNN
from genelang.compiler.registry import set_builder


def _proj(width: int, hidden: int) -> nn.Module:
    return nn.Identity() if width == hidden else nn.Linear(width, hidden, bias=False)


class Add(nn.Module):
    def __init__(self, widths, hidden):
        super().__init__()
        self.pa, self.pb = _proj(widths[0], hidden), _proj(widths[1], hidden)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.pa(a) + self.pb(b)


class Mul(Add):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.pa(a) * self.pb(b)


class Blend(nn.Module):
    """a·c + b·(1−c)."""

    def __init__(self, widths, hidden):
        super().__init__()
        self.pa, self.pb, self.pc = (_proj(w, hidden) for w in widths)

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        c = self.pc(c)
        return self.pa(a) * c + self.pb(b) * (1.0 - c)


class Mean(nn.Module):
    """Mean of any number of operands (nested `mean`s are flattened by the lowering)."""

    def __init__(self, widths, hidden):
        super().__init__()
        self.projs = nn.ModuleList(_proj(w, hidden) for w in widths)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = [p(xs[i]) for i, p in enumerate(self.projs)]
        return torch.stack(out, 0).mean(0)


class CatLinear(nn.Module):
    def __init__(self, widths, hidden):
        super().__init__()
        self.linear = nn.Linear(sum(widths), hidden)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.cat([a, b], dim=-1))


class LeakyReLU(nn.LeakyReLU):
    def __init__(self):
        super().__init__(0.01)


def _unary(factory, keeps_width=True):
    def build(widths, hidden):
        return factory(widths[0], hidden), (widths[0] if keeps_width else hidden)
    return build


set_builder(RNN, "add", lambda w, h: (Add(w, h), h))
set_builder(RNN, "mul", lambda w, h: (Mul(w, h), h))
set_builder(RNN, "blend", lambda w, h: (Blend(w, h), h))
set_builder(RNN, "mean", lambda w, h: (Mean(w, h), h))
set_builder(RNN, "cat_linear", lambda w, h: (CatLinear(w, h), h))
set_builder(RNN, "linear", _unary(lambda w, h: nn.Linear(w, h), keeps_width=False))
set_builder(RNN, "sigmoid", _unary(lambda w, h: nn.Sigmoid()))
set_builder(RNN, "tanh", _unary(lambda w, h: nn.Tanh()))
set_builder(RNN, "relu", _unary(lambda w, h: nn.ReLU()))
set_builder(RNN, "leaky_relu", _unary(lambda w, h: LeakyReLU()))
set_builder(RNN, "identity", _unary(lambda w, h: nn.Identity()))
set_builder(RNN, "layer_norm", _unary(lambda w, h: nn.LayerNorm(w)))
