"""The conv space's image networks, built from a genome's cells.

Two skeletons (the conv space's `skeletons`; NAS-Bench-201's network is the
nb201 space's own, `runtime/nb201_network.py`):
- `nasgep` (Alves & de Oliveira 2020, Fig. 3): stem conv 3×3 + BN →
  N normal → reduction → N normal → reduction → N normal → BN + ReLU →
  global average pool → Linear. Channels double at each reduction.
- `darts`: DARTS's NetworkCIFAR layout: stem conv 3×3 to 3C + BN, `layers`
  cells with reductions at layers//3 and 2·layers//3 (channels double), an
  optional auxiliary head after cell 2·layers//3, global pool, Linear.

`forward(x)` returns logits in both modes, so the network scripts and exports
as it is; `forward_with_aux(x)` returns `(logits, aux_logits)` for training
with the auxiliary head (DARTS returns the pair from forward instead).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.conv_plan import multiplier
from genelang.compiler.conv_space import CELLS
from genelang.compiler.lower_conv import CellSpec, lower_cell, set_drop_path


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS's auxiliary head (for 8×8 inputs)."""

    def __init__(self, C: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class GlobalAvgPool(nn.Module):
    """AdaptiveAvgPool2d(1) as a sum: its gradient is a broadcast view, so a
    channels_last network's last ReLU backward reads it in its own layout
    (AdaptiveAvgPool2d's gradient comes in the default layout, and the ReLU
    backward over mixed layouts is ~30x slower on the CPU)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum((2, 3), keepdim=True) / (x.shape[2] * x.shape[3])


class CellNetwork(nn.Module):
    def __init__(self, stem: nn.Module, cells: list[nn.Module], head: nn.Module,
                 classifier: nn.Linear, aux_index: int = -1, aux_head: nn.Module | None = None):
        super().__init__()
        self.stem = stem
        self.cells = nn.ModuleList(cells)
        self.head = head
        self.global_pooling = GlobalAvgPool()
        self.classifier = classifier
        self.aux_index = aux_index
        self.auxiliary_head = aux_head if aux_head is not None else nn.Identity()
        self.has_aux = aux_head is not None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return s1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.global_pooling(self.head(self.features(x)))
        return self.classifier(out.flatten(1))

    @torch.jit.unused
    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i == self.aux_index and self.has_aux and self.training:
                aux = self.auxiliary_head(s1)
        out = self.global_pooling(self.head(s1))
        return self.classifier(out.flatten(1)), aux

    def set_drop_path(self, p: float) -> None:
        set_drop_path(self, p)


@dataclass(frozen=True)
class Layout:
    """Where a skeleton's cells reduce, its stem width and where its auxiliary head reads."""
    plan: tuple[bool, ...]     # per cell: a reduction cell?
    stem_multiplier: int       # stem channels / C
    aux_index: int             # the cell whose output the auxiliary head reads


def _nasgep(N: int, layers: int, stem_multiplier: int | None) -> Layout:
    plan = [False] * N + [True] + [False] * N + [True] + [False] * N
    return Layout(tuple(plan), stem_multiplier or 1, len(plan) - N - 1)


def _darts(N: int, layers: int, stem_multiplier: int | None) -> Layout:
    plan = [i in (layers // 3, 2 * layers // 3) for i in range(layers)]
    return Layout(tuple(plan), stem_multiplier or 3, 2 * layers // 3)


LAYOUTS = {"nasgep": _nasgep, "darts": _darts}   # the conv space's skeletons (opsets registers their names)


def layout(skeleton: str, *, N: int, layers: int, stem_multiplier: int | None = None) -> Layout:
    if skeleton not in LAYOUTS:
        raise ValueError(f"unknown skeleton {skeleton!r}; choose from {', '.join(LAYOUTS)}")
    return LAYOUTS[skeleton](N, layers, stem_multiplier)


def cell_specs(plan: tuple[bool, ...], C_stem: int, C: int, multipliers: dict[bool, int],
               drop_path: bool = False) -> list[CellSpec]:
    """Each cell's channels: C doubles at a reduction; a cell reads the outputs of
    the two before it, `multipliers[reduction]` · C wide (the stem's for the first)."""
    specs = []
    C_pp, C_p, C_cur, red_prev = C_stem, C_stem, C, False
    for reduction in plan:
        if reduction:
            C_cur *= 2
        specs.append(CellSpec(C_pp, C_p, C_cur, reduction, red_prev, drop_path))
        C_pp, C_p, red_prev = C_p, multipliers[reduction] * C_cur, reduction
    return specs


def make_stem(in_channels: int, C_stem: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(in_channels, C_stem, 3, padding=1, bias=False), nn.BatchNorm2d(C_stem))


HEADED = frozenset({"nasgep"})    # skeletons with BN + ReLU before the pooling


def make_head(skeleton: str, C_last: int) -> nn.Module:
    return nn.Sequential(nn.BatchNorm2d(C_last), nn.ReLU(inplace=False)) if skeleton in HEADED else nn.Identity()


def build_network(genome: Genome, skeleton: str = "nasgep", *, C: int = 16, N: int = 3,
                  layers: int = 8, num_classes: int = 10, in_channels: int = 3,
                  auxiliary: bool = False, drop_path: float = 0.0,
                  stem_multiplier: int | None = None) -> nn.Module:
    """A whole image network from a checked conv genome."""
    lay = layout(skeleton, N=N, layers=layers, stem_multiplier=stem_multiplier)
    C_stem = lay.stem_multiplier * C
    mults = {r: multiplier(genome, cell) for r, cell in CELLS.items()}
    specs = cell_specs(lay.plan, C_stem, C, mults, drop_path > 0)
    # modules are made in this order (stem, cells, head, auxiliary head, classifier)
    # so that a seed draws the same initial weights it always has
    stem = make_stem(in_channels, C_stem)
    cells = [lower_cell(genome, CELLS[s.reduction], s)[0] for s in specs]
    chans = [mults[s.reduction] * s.C for s in specs]
    head = make_head(skeleton, chans[-1])
    aux_index, aux = -1, None
    if auxiliary:
        aux_index = lay.aux_index
        aux = AuxiliaryHeadCIFAR(chans[aux_index], num_classes)
    net = CellNetwork(stem, cells, head, nn.Linear(chans[-1], num_classes), aux_index, aux)
    if drop_path > 0:
        net.set_drop_path(drop_path)
    return net
