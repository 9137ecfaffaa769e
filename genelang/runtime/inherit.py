"""Weight inheritance (NASGEP): a conv block's trained weights are kept in a
bank while the models holding them keep improving, and new networks that
contain the same block start from them instead of from scratch.

A block is an operation node of a cell, keyed by the cell's position in the
network and the computation it performs with ADFs written out
(`3:sep3x3(add(h1, dw5x5(h2)))`): the same key in two genomes is the same
operation on the same inputs at the same depth. A block is loaded only when
every tensor's shape matches.

The bank is a file of `{key: {"fitness": f, "state": state_dict}}`; `merge`
keeps, for each key, the weights of the fittest model that held it.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from genelang.atomic import atomic_write

Bank = dict[str, dict]


def blocks(net: nn.Module) -> dict[str, nn.Module]:
    """Key -> module for every operation block with parameters or buffers."""
    out: dict[str, nn.Module] = {}
    for i, cell in enumerate(getattr(net, "cells", ())):
        seen: dict[str, int] = {}
        for name, what in getattr(cell, "meta", {}).get("blocks", {}).items():
            mod = getattr(cell, name)
            if not any(True for _ in mod.state_dict()):
                continue
            k = seen[what] = seen.get(what, -1) + 1   # the same computation twice in a cell
            out[f"{i}:{what}" + (f"#{k}" if k else "")] = mod
    return out


def load_bank(path: str | Path | None) -> Bank:
    if not path or not Path(path).exists():
        return {}
    return torch.load(path, map_location="cpu", weights_only=True)


def save_bank(bank: Bank, path: str | Path) -> None:
    """Atomic: a killed run never leaves a half-written bank."""
    atomic_write(path, lambda tmp: torch.save(bank, tmp))


def inherit(net: nn.Module, bank: Bank) -> int:
    """Load every block of `net` found in `bank` with matching shapes; returns how many."""
    n = 0
    for key, mod in blocks(net).items():
        entry = bank.get(key)
        if entry is None:
            continue
        own = mod.state_dict()
        state = entry["state"]
        if own.keys() == state.keys() and all(own[k].shape == state[k].shape for k in own):
            mod.load_state_dict(state)
            n += 1
    return n


def bank_of(net: nn.Module, fitness: float) -> Bank:
    """A trained network's blocks as a bank (CPU copies)."""
    return {key: {"fitness": float(fitness),
                  "state": {k: v.detach().cpu().clone() for k, v in mod.state_dict().items()}}
            for key, mod in blocks(net).items()}


def merge(bank: Bank, other: Bank) -> int:
    """Take each of `other`'s blocks that is new or comes from a fitter model;
    returns how many were taken. Ties keep what the bank has, so merging in a
    fixed order gives the same bank."""
    n = 0
    for key, entry in other.items():
        if key not in bank or entry["fitness"] > bank[key]["fitness"]:
            bank[key] = entry
            n += 1
    return n
