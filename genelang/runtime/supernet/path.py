"""A genome's path through the supernet: its cells' steps (`conv_plan`) with
the key of the block each step runs, and the path as a network that shares
the supernet's blocks. The path is a `CellNetwork` whose modules are named as
in the genome's compiled network, so `build_network(genome).load_state_dict(
path.state_dict())` gives the stand-alone network the same weights."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.conv_plan import CellPlan, Step, cell_plan
from genelang.runtime.networks import cell_specs
from genelang.runtime.supernet import keys as K
from genelang.runtime.supernet.shape import SupernetShape


@dataclass(frozen=True)
class CellPath:
    plan: CellPlan
    keys: tuple[str | None, ...]      # per step: the block it runs (None: add, the root cat)


@dataclass(frozen=True)
class PathPlan:
    cells: tuple[CellPath, ...]
    head: str | None                  # by the last cell's output channels (None: the skeleton has no head)
    classifier: str

    @property
    def keys(self) -> list[str]:
        """Every block the path runs (the stem aside)."""
        ends = [k for k in (self.head, self.classifier) if k is not None]
        return [k for c in self.cells for k in c.keys if k is not None] + ends


def _key(i: int, st: Step, C_pp: int, C_p: int, share: str) -> str | None:
    if st.kind == "pre0":
        return K.pre_key(i, 0, C_pp)
    if st.kind == "pre1":
        return K.pre_key(i, 1, C_p)
    if st.kind == "op":
        return K.op_key(i, st.gene, st.index, st.symbol, st.stride, share)
    if st.kind == "cat" and st.project:
        return K.cat_key(i, st.gene, st.index, len(st.args), share)
    return None


def path_plan(shape: SupernetShape, genome: Genome) -> PathPlan:
    plans = {r: cell_plan(genome, shape.cell_gene(r).name, r) for r in (False, True)}
    specs = cell_specs(shape.plan, shape.C_stem, shape.C, {r: p.multiplier for r, p in plans.items()})
    cells = tuple(CellPath(plans[s.reduction], tuple(_key(i, st, s.C_prev_prev, s.C_prev, shape.share)
                                                     for st in plans[s.reduction].steps))
                  for i, s in enumerate(specs))
    C_last = plans[specs[-1].reduction].multiplier * specs[-1].C
    return PathPlan(cells, K.head_key(C_last) if shape.head else None, K.classifier_key(C_last))


class PathCell(nn.Module):
    """One cell of a path: it runs its plan's steps eagerly over the supernet's blocks."""

    def __init__(self, plan: CellPlan, mods: list[nn.Module | None]):
        super().__init__()
        for st, mod in zip(plan.steps, mods):
            if mod is not None:
                self.add_module(st.name, mod)
        self.plan = plan
        self.mods = tuple(mods)       # a plain tuple: the modules are registered above, by name

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        slots = [s0, s1]
        for st, mod in zip(self.plan.steps, self.mods):
            args = [slots[a] for a in st.args]
            if st.kind == "add":
                out = args[0] + args[1]
            elif st.kind == "cat":
                out = torch.cat(args, 1)
                out = out if mod is None else mod(out)
            else:
                out = mod(*args)
            slots.append(out)
        return slots[self.plan.out]
