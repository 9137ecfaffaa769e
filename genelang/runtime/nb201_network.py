"""NAS-Bench-201's network around a cell (NATS-Bench `TinyNetwork`): stem
conv 3×3 + BN; N cells at C; a residual reduction block to 2C; N cells; a
block to 4C; N cells; BN + ReLU; global average pool; Linear. With C=16, N=5
its parameter count is the table's `model_size` for every cell."""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.conv_ops import ReLUConvBN
from genelang.compiler.lower_nb201 import lower_nb201_cell


class ResNetBasicBlock(nn.Module):
    """NATS-Bench `ResNetBasicblock` at stride 2: two ReLU-conv3×3-BN, the first
    striding; the shortcut average-pools 2×2 then projects with a 1×1 conv."""

    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0),
                                        nn.Conv2d(C_in, C_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def cell_plan(C: int = 16, N: int = 5) -> list[tuple[int, bool]]:
    """(channels, a residual reduction block?) of each of the network's cells."""
    plan, C_cur = [], C
    for stage in range(3):
        if stage:
            plan.append((C_cur, True))
            C_cur *= 2
        plan += [(C_cur, False)] * N
    return plan


def make_stem(in_channels: int, C: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))


def make_head(C_last: int) -> nn.Module:
    return nn.Sequential(nn.BatchNorm2d(C_last), nn.ReLU(inplace=False))


class NB201Network(nn.Module):
    def __init__(self, genome: Genome | None, num_classes: int = 10, in_channels: int = 3,
                 C: int = 16, N: int = 5, parts: tuple | None = None):
        """`parts` (stem, cells, head, classifier): a supernet's path over shared
        modules instead of new ones built for `genome`."""
        super().__init__()
        if parts is None:
            plan = cell_plan(C, N)
            parts = (make_stem(in_channels, C),
                     [ResNetBasicBlock(c, 2 * c) if red else lower_nb201_cell(genome, c) for c, red in plan],
                     make_head(4 * C), nn.Linear(4 * C, num_classes))
        self.stem, cells, self.head, self.classifier = parts
        self.cells = nn.ModuleList(cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        out = self.global_pooling(self.head(x))
        return self.classifier(out.flatten(1))


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
