"""SPOS blocks as megvii-model/SinglePathOneShot builds them: ShuffleNetV2 units.
A layer that keeps its shape splits its channels, runs one half through the
branch and shuffles; a stage's first layer runs the whole input through the
branch and a projection (depthwise + 1×1) beside it and concatenates."""
from __future__ import annotations

import torch
from torch import nn

from genelang.runtime.chain.family import Family, conv_bn, register_family


def _branch(symbol: str, c_in: int, mid: int, c_out: int, stride: int) -> nn.Sequential:
    if symbol == "xception":
        return nn.Sequential(conv_bn(c_in, c_in, 3, stride, groups=c_in, act=None), conv_bn(c_in, mid, 1),
                             conv_bn(mid, mid, 3, groups=mid, act=None), conv_bn(mid, mid, 1),
                             conv_bn(mid, mid, 3, groups=mid, act=None), conv_bn(mid, c_out, 1))
    k = int(symbol.removeprefix("shuffle"))
    return nn.Sequential(conv_bn(c_in, mid, 1), conv_bn(mid, mid, k, stride, groups=mid, act=None),
                         conv_bn(mid, c_out, 1))


class SplitUnit(nn.Module):
    """Keeps the shape: half the channels pass, half run the branch; then a shuffle."""
    def __init__(self, symbol: str, c: int):
        super().__init__()
        self.branch = _branch(symbol, c // 2, c // 2, c - c // 2, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        # the reference's split: even channels pass, odd ones run (a shuffle of the previous concat)
        pairs = x.reshape(n * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, n, c // 2, h, w)
        return torch.cat((pairs[0], self.branch(pairs[1])), 1)


class ProjectUnit(nn.Module):
    """A stage's first layer: the projection and the branch both read the whole input."""
    def __init__(self, symbol: str, c_in: int, c_out: int, stride: int):
        super().__init__()
        k = 3 if symbol == "xception" else int(symbol.removeprefix("shuffle"))
        self.proj = nn.Sequential(conv_bn(c_in, c_in, k, stride, groups=c_in, act=None), conv_bn(c_in, c_in, 1))
        self.branch = _branch(symbol, c_in, c_out // 2, c_out - c_in, stride)

    def forward(self, x):
        return torch.cat((self.proj(x), self.branch(x)), 1)


def block(symbol: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return SplitUnit(symbol, c_in)
    return ProjectUnit(symbol, c_in, c_out, stride)


register_family("spos", Family(stem=lambda c_in, c_out, stride, _mult: conv_bn(c_in, c_out, 3, stride), block=block,
                               head=lambda c_in, c_out: conv_bn(c_in, c_out, 1), classifier_bias=False))
