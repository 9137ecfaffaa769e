"""PyTorch builders for the conv space.

A builder is `(C, stride, affine) -> nn.Module` mapping C channels to C
channels (DARTS's `OPS` convention). A user op registers the same way:
`register_op(Op("my_op", 1, "conv", builder=lambda C, stride, affine: ...))`.

NASGEP conv blocks are ReLU → conv(s) → BN (Alves & de Oliveira 2020).
DARTS primitives follow quark0/darts `cnn/operations.py` exactly.
"""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler.darts_space import DARTS
from genelang.compiler.opsets import CONV, DARTS_OPS, NASGEP_SIZES
from genelang.compiler.registry import set_builder


def _kernel(size: str) -> tuple[int, int]:
    k, l = size.split("x")
    return int(k), int(l)


def _same(kernel: tuple[int, int], dilation: int = 1) -> tuple[int, int]:
    return (dilation * (kernel[0] - 1) // 2, dilation * (kernel[1] - 1) // 2)


def pointwise(C: int, stride: int, affine: bool) -> nn.Module:
    return nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(C, C, 1, stride, bias=False),
                         nn.BatchNorm2d(C, affine=affine))


def _nasgep_block(kernel: tuple[int, int], convs: str):
    """ReLU → the convs in order ('p' pointwise 1×1, 'd' depthwise `kernel`, which
    takes the stride) → BN."""
    def build(C: int, stride: int, affine: bool) -> nn.Module:
        layers = [nn.Conv2d(C, C, 1, bias=False) if c == "p"
                  else nn.Conv2d(C, C, kernel, stride, _same(kernel), groups=C, bias=False) for c in convs]
        return nn.Sequential(nn.ReLU(inplace=False), *layers, nn.BatchNorm2d(C, affine=affine))
    return build


def depthwise(kernel: tuple[int, int]):
    return _nasgep_block(kernel, "d")


def separable(kernel: tuple[int, int]):
    """NASGEP separable: pointwise then depthwise (the stride on the depthwise)."""
    return _nasgep_block(kernel, "pd")


def inverse_separable(kernel: tuple[int, int]):
    """NASGEP inverse separable: depthwise (with the stride) then pointwise."""
    return _nasgep_block(kernel, "dp")


# --- DARTS (quark0/darts cnn/operations.py) -------------------------------

class ReLUConvBN(nn.Sequential):
    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int, padding: int, affine=True):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(C_in, C_out, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(C_out, affine=affine))


class DilConv(nn.Sequential):
    def __init__(self, C_in, C_out, kernel, stride, padding, dilation, affine=True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride, padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))


class SepConv(nn.Sequential):
    def __init__(self, C_in, C_out, kernel, stride, padding, affine=True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, 1, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, 1, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))


class Zero(nn.Module):
    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    def __init__(self, C_in: int, C_out: int, affine=True):
        super().__init__()
        assert C_out % 2 == 0
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        # x[:, :, 1:, 1:] as a negative pad: its gradient keeps x's memory format (a slice's
        # is made in the default layout, and a channels_last ReLU backward reading it is ~30x slower)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(nn.functional.pad(x, (-1, 0, -1, 0)))], dim=1))


DARTS_BUILDERS = {
    "none": lambda C, stride, affine: Zero(stride),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(3, stride=stride, padding=1,
                                                           count_include_pad=False),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    "skip_connect": lambda C, stride, affine: (nn.Identity() if stride == 1
                                               else FactorizedReduce(C, C, affine=affine)),
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine=affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine=affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine=affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine=affine),
}
assert set(DARTS_BUILDERS) == set(DARTS_OPS)

set_builder(CONV, "pw", pointwise)
for _size in NASGEP_SIZES:
    set_builder(CONV, f"dw{_size}", depthwise(_kernel(_size)))
    set_builder(CONV, f"sep{_size}", separable(_kernel(_size)))
    set_builder(CONV, f"isep{_size}", inverse_separable(_kernel(_size)))
for _name, _build in DARTS_BUILDERS.items():
    set_builder(CONV, _name, _build)
    set_builder(DARTS, _name, _build)    # DARTS's cell space has the same operations
