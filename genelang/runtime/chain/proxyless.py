"""ProxylessNAS blocks as its reference code builds them (mit-han-lab/proxylessnas
MBInvertedConvLayer): an expansion 1×1 unless the ratio is 1, a depthwise k×k,
a linear 1×1; ReLU6; a residual where the layer keeps its shape. The stem is
a 3×3 conv to 32 channels and the fixed first MBConv (ratio 1, k3) to 16."""
from __future__ import annotations

import re

from torch import nn

from genelang.runtime.chain.family import Family, Residual, conv_bn, register_family, scaled

SYMBOL = re.compile(r"^mb(\d)e(\d)$")


def mbconv(c_in: int, c_out: int, stride: int, k: int, e: int) -> nn.Module:
    mid = round(c_in * e)
    layers = [conv_bn(c_in, mid, 1, act=nn.ReLU6)] if e > 1 else []
    layers += [conv_bn(mid, mid, k, stride, groups=mid, act=nn.ReLU6), conv_bn(mid, c_out, 1, act=None)]
    body = nn.Sequential(*layers)
    return Residual(body) if stride == 1 and c_in == c_out else body


def block(symbol: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if symbol == "skip":
        return nn.Identity()
    k, e = map(int, SYMBOL.match(symbol).groups())
    return mbconv(c_in, c_out, stride, k, e)


def stem(c_in: int, c_out: int, stride: int, mult: float) -> nn.Module:
    mid = scaled(32, mult)
    return nn.Sequential(conv_bn(c_in, mid, 3, stride, act=nn.ReLU6), mbconv(mid, c_out, 1, 3, 1))


register_family("proxyless", Family(stem=stem, block=block,
                                    head=lambda c_in, c_out: conv_bn(c_in, c_out, 1, act=nn.ReLU6)))
