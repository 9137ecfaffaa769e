"""Zero-cost proxies: scores of an untrained network from one minibatch.

- naswot: log-determinant of the kernel of binary ReLU codes over one
  minibatch (Mellor et al. 2021).
- synflow: synaptic flow of |θ| with an all-ones input (Tanaka et al. 2020).
"""
from __future__ import annotations

import math

import torch
from torch import nn


@torch.no_grad()
def naswot(net: nn.Module, x: torch.Tensor, _y=None) -> float:
    codes = []

    def hook(_m, inp, _out):
        codes.append((inp[0].flatten(1) > 0).float())

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        net.train()
        net(x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        return 0.0
    c = torch.cat(codes, 1)
    k = c @ c.T + (1 - c) @ (1 - c).T
    return float(torch.linalg.slogdet(k.double())[1])


def synflow(net: nn.Module, x: torch.Tensor) -> float:
    net = net.double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones_like(x[:1]).double())
    out.sum().backward()
    score = sum((p * p.grad).abs().sum().item() for p in net.parameters() if p.grad is not None)
    return math.log(score + 1e-12)
