"""Parameters and multiply-adds per top-level part (stem, each cell, head) and
in total, measured with forward hooks on one sample."""
from __future__ import annotations

from dataclasses import dataclass

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
    hooks = []

    def hook(module, _inp, out):
        if isinstance(out, torch.Tensor) and module in owner:
            parts[owner[module]].macs += _macs(module, out)

    for m in owner:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    rows = [p for p in parts.values() if p.params or p.macs]
    rows.append(PartCost("total", sum(p.params for p in rows), sum(p.macs for p in rows)))
    return rows
