"""FBNet blocks as maskrcnn-benchmark's fbnet_builder (IRFBlock) builds them:
a 1×1 to `c_in × e` channels (kept at ratio 1), a depthwise k×k, a linear 1×1;
ReLU; the 1×1s in two groups with a channel shuffle after the first for the
g2 blocks; a residual where the layer keeps its shape."""
from __future__ import annotations

import re

from torch import nn

from genelang.runtime.chain.family import ChannelShuffle, Family, Residual, conv_bn, register_family

SYMBOL = re.compile(r"^k(\d)e(\d)(?:g(\d))?$")


def irf(c_in: int, c_out: int, stride: int, k: int, e: int, g: int) -> nn.Module:
    mid = int(c_in * e)
    layers = [conv_bn(c_in, mid, 1, groups=g)] + ([ChannelShuffle(g)] if g > 1 else [])
    layers += [conv_bn(mid, mid, k, stride, groups=mid), conv_bn(mid, c_out, 1, groups=g, act=None)]
    body = nn.Sequential(*layers)
    return Residual(body) if stride == 1 and c_in == c_out else body


def block(symbol: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if symbol == "skip":
        return nn.Identity()
    k, e, g = SYMBOL.match(symbol).groups()
    return irf(c_in, c_out, stride, int(k), int(e), int(g or 1))


register_family("fbnet", Family(stem=lambda c_in, c_out, stride, _mult: conv_bn(c_in, c_out, 3, stride), block=block,
                                head=lambda c_in, c_out: conv_bn(c_in, c_out, 1)))
