"""Parameters and multiply-adds per top-level part (stem, each cell, head) and
in total, measured with forward hooks on one sample."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import nn


@dataclass
class PartCost:
    name: str
    params: int
    macs: int


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1]
        return out.numel() * (module.in_channels // module.groups) * k
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0


@contextmanager
def _counting(modules: Iterable[nn.Module], add: Callable[[nn.Module, int], None]):
    """While open, every forward of a conv or linear layer among `modules` adds its multiply-adds."""
    def hook(module, _inp, out):
        if isinstance(out, torch.Tensor):
            add(module, _macs(module, out))

    hooks = [m.register_forward_hook(hook) for m in modules if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def measure(module: nn.Module, *inputs: torch.Tensor) -> tuple[PartCost, torch.Tensor]:
    """One module's parameters and multiply-adds on `inputs` (one sample), counted
    as `summarize` counts them, and its output."""
    cost = PartCost(type(module).__name__, sum(p.numel() for p in module.parameters()), 0)

    def add(_module: nn.Module, macs: int) -> None:
        cost.macs += macs

    with _counting(module.modules(), add), torch.no_grad():
        out = module.eval()(*inputs)
    return cost, out


def summarize(model: nn.Module, example: torch.Tensor) -> list[PartCost]:
    """Costs per top-level child for one sample, plus a final 'total' row."""
    example = example[:1]
    parts: dict[str, PartCost] = {}
    owner: dict[nn.Module, str] = {}
    for top, child in model.named_children():
        for m in child.modules():
            owner.setdefault(m, top)
        if isinstance(child, nn.ModuleList):
            for i, sub in enumerate(child):
                for m in sub.modules():
                    owner[m] = f"{top}.{i}"
    for m, name in owner.items():
        parts.setdefault(name, PartCost(name, 0, 0))
    seen: set[int] = set()
    for m, name in owner.items():
        for p in m.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                parts[name].params += p.numel()
    def add(module: nn.Module, macs: int) -> None:
        parts[owner[module]].macs += macs

    with _counting(owner, add), torch.no_grad():
        model.eval()(example)
    rows = [p for p in parts.values() if p.params or p.macs]
    rows.append(PartCost("total", sum(p.params for p in rows), sum(p.macs for p in rows)))
    return rows
