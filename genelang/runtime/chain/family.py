"""What a chain space builds with: its stem, its blocks and its head, one
`Family` per space name (a registry, so the network, cost model and supernet
never name a space)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

Block = Callable[[str, int, int, int], nn.Module]   # (symbol, c_in, c_out, stride) -> module


@dataclass(frozen=True)
class Family:
    stem: Callable[[int, int, int, float], nn.Module]   # (in channels, out channels, stride, width multiplier)
    block: Block
    head: Callable[[int, int], nn.Module]           # (in channels, out channels): the 1×1 conv before pooling
    classifier_bias: bool = True


def scaled(width: int, mult: float) -> int:
    """A width times the multiplier, a multiple of 8 (MobileNet's rule) and
    never under 8; exactly `width` at 1."""
    if mult == 1:
        return width
    return max(8, int(width * mult + 4) // 8 * 8)


_FAMILIES: dict[str, Family] = {}


def register_family(space: str, family: Family) -> Family:
    _FAMILIES[space] = family
    return family


def family(space: str) -> Family:
    if space not in _FAMILIES:
        import genelang.runtime.chain.families  # noqa: F401  (registers the built-in ones)
    return _FAMILIES[space]


def conv_bn(c_in: int, c_out: int, k: int = 1, stride: int = 1, groups: int = 1,
            act: type[nn.Module] | None = nn.ReLU) -> nn.Sequential:
    """Convolution (no bias), batch norm and, unless `act` is None, an activation."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(c_out)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class ChannelShuffle(nn.Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.shape
        return x.reshape(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class Residual(nn.Module):
    """x + body(x): a block that keeps its input's shape."""
    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)
