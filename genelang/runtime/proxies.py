"""Zero-cost proxies: scores of an untrained network from one minibatch.

- naswot: log-determinant of the kernel of binary ReLU codes over one
  minibatch (Mellor et al. 2021).
- synflow: synaptic flow of |θ| with an all-ones input (Tanaka et al. 2020),
  as Abdelfattah et al.'s zero-cost-nas computes it: on a copy without batch
  norm, weights made positive, in double precision, summing |θ·∂R/∂θ| over the
  weights of convolutions and linear layers.
"""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


@contextmanager
def forward_hooks(modules, hook) -> Iterator[None]:
    """While open, `hook(module, inputs, output)` runs after each module's forward."""
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


@contextmanager
def relu_codes(net: nn.Module) -> Iterator[list[torch.Tensor]]:
    """While open, each ReLU's binary input code per image (what naswot scores).
    ReLU6 counts as a ReLU (the proxyless space's MBConvs use it): its code at 0
    is the same; without it a proxyless network had no codes and scored 0."""
    codes: list[torch.Tensor] = []

    def hook(_m, inp, _out):
        codes.append((inp[0].detach().flatten(1) > 0).float())

    with forward_hooks((m for m in net.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))), hook):
        yield codes


def naswot_of(codes: list[torch.Tensor]) -> float:
    if not codes:
        return 0.0
    c = torch.cat(codes, 1)
    k = c @ c.T + (1 - c) @ (1 - c).T
    return float(torch.linalg.slogdet(k.double())[1])


@torch.no_grad()
def naswot(net: nn.Module, x: torch.Tensor, _y=None) -> float:
    net.train()
    with relu_codes(net) as codes:
        net(x)
    return naswot_of(codes)


def _without_batchnorm(net: nn.Module) -> nn.Module:
    # With BN in train mode an all-ones input normalises to zeros, and the
    # reference drops BN for synflow (its `bn=False` copy of the network).
    for name, m in list(net.named_modules()):
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            parent, _, child = name.rpartition(".")
            setattr(net.get_submodule(parent), child, nn.Identity())
    return net


def synflow(net: nn.Module, x: torch.Tensor, *, keep: bool = True) -> float:
    """log of the synaptic flow. `keep=False` spends `net` (no copy, which for
    fx-lowered cells costs more than the score itself)."""
    net = _without_batchnorm(copy.deepcopy(net) if keep else net).double().train()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones_like(x[:1]).double())
    out.sum().backward()
    score = sum((m.weight * m.weight.grad).abs().sum().item() for m in net.modules()
                if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None)
    return math.log(score + 1e-12)
