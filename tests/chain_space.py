"""A chain-structured space defined outside genelang, as a user's plugin module
would: a MobileNetV2-style sequence of layers, each choosing an inverted
residual block (kernel 3 or 5, expansion 3 or 6) or `skip` where the layer
keeps its shape. It brings its own checks, network, cost model and supernet
through the space hooks, and nothing in genelang names it.

A genome has one gene, `net`: a head of one block per layer, in Karva order
(the root, position 0, is the last layer; the input `x` is the tail):

    genome m on chain {
        cell net = mb3e6 skip mb5e3 mb3e3 | x     # x → mb3e3 → mb5e3 → skip → mb3e6
    }
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genelang.compiler.registry import MAIN, Op, Space, register_op, register_space
from genelang.compiler.template import Slot
from genelang.runtime.summary import measure
from genelang.runtime.supernet import SearchShape

CHAIN = "chain"
BLOCKS = {f"mb{k}e{e}": (k, e) for k in (3, 5) for e in (3, 6)}
SKIP = "skip"
# (output channels at C=16, stride) of each layer, input first
LAYERS = ((16, 1), (24, 2), (24, 1), (32, 2))
STEM = 16


def widths(C: int) -> list[tuple[int, int, int]]:
    """(in channels, out channels, stride) per layer, input first, at width C."""
    out, c_in = [], STEM * C // 16
    for c, stride in LAYERS:
        c_out = c * C // 16
        out.append((c_in, c_out, stride))
        c_in = c_out
    return out


def can_skip(layer: int, C: int = 16) -> bool:
    c_in, c_out, stride = widths(C)[layer]
    return stride == 1 and c_in == c_out


def layer_blocks(genome) -> list[str]:
    """The chosen block of each layer, input first."""
    return list(reversed(genome.gene("net").head))


class ChainSpace(Space):
    def check_extra(self, genome, report, clean):
        gene = genome.gene("net")
        if len(gene.head) != len(LAYERS):
            report("chain", f"the net has {len(gene.head)} layers, the chain {len(LAYERS)}", gene.pos,
                   f"write one block per layer ({len(LAYERS)})")
            return
        for pos, sym in enumerate(gene.head):
            layer = len(LAYERS) - 1 - pos
            if sym == SKIP and not can_skip(layer):
                report("chain", f"layer {layer} changes shape and cannot be skipped", gene.pos_of(pos),
                       f"choose one of {', '.join(BLOCKS)}")

    def search_layout(self):
        domains = tuple(tuple(BLOCKS) + ((SKIP,) if can_skip(len(LAYERS) - 1 - p) else ())
                        for p in range(len(LAYERS)))
        return (Slot.fixed("cell", "net", len(LAYERS), domains + (("x",),)),)


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, k: int, e: int):
        super().__init__()
        mid = c_in * e
        self.body = nn.Sequential(
            nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


def make_block(symbol: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    return nn.Identity() if symbol == SKIP else InvertedResidual(c_in, c_out, stride, *BLOCKS[symbol])


def make_stem(in_channels: int, C: int) -> nn.Module:
    c = STEM * C // 16
    return nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU6())


class ChainNet(nn.Module):
    def __init__(self, stem: nn.Module, layers: list[nn.Module], classifier: nn.Linear):
        super().__init__()
        self.stem, self.layers, self.classifier = stem, nn.Sequential(*layers), classifier
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.classifier(self.pool(self.layers(self.stem(x))).flatten(1))


def network(genome, model, *, num_classes, input_shape):
    layers = [make_block(s, *w) for s, w in zip(layer_blocks(genome), widths(model.C))]
    return ChainNet(make_stem(input_shape[0], model.C), layers, nn.Linear(widths(model.C)[-1][1], num_classes))


@dataclass(frozen=True)
class Cost:
    params: int
    macs: int


class ChainCosts:
    """Each layer's blocks, the stem and the classifier measured once; a genome's cost is their sum."""

    def __init__(self, model, num_classes: int, input_shape: tuple[int, ...]):
        x = torch.zeros(1, *input_shape)
        stem, out = measure(make_stem(input_shape[0], model.C), x)
        self.fixed = [Cost(stem.params, stem.macs)]
        self.table: list[dict[str, Cost]] = []
        for layer, (c_in, c_out, stride) in enumerate(widths(model.C)):
            x = torch.zeros(1, c_in, *out.shape[-2:])
            row = {}
            for sym in (*BLOCKS, *((SKIP,) if can_skip(layer, model.C) else ())):
                part, y = measure(make_block(sym, c_in, c_out, stride), x)
                row[sym] = Cost(part.params, part.macs)
            out = y
            self.table.append(row)
        head, _ = measure(nn.Linear(widths(model.C)[-1][1], num_classes), torch.zeros(1, widths(model.C)[-1][1]))
        self.fixed.append(Cost(head.params, head.macs))

    def cost(self, genome) -> Cost:
        parts = [row[s] for row, s in zip(self.table, layer_blocks(genome))] + self.fixed
        return Cost(sum(p.params for p in parts), sum(p.macs for p in parts))


def cost_model(task, model, max_operands):
    from genelang.runtime.task_data import task_data
    data, _ = task_data(task)
    return ChainCosts(model, data.num_classes, tuple(data.train_x.shape[1:]))


class ChainSupernet(nn.Module):
    """One block per (layer, choice); a genome's path is a ChainNet over them."""

    def __init__(self, template, model, num_classes, input_shape, share):
        super().__init__()
        self.shape = SearchShape(template, share)
        self.stem = make_stem(input_shape[0], model.C)
        self.blocks = nn.ModuleDict()
        for layer, (c_in, c_out, stride) in enumerate(widths(model.C)):
            for sym in (*BLOCKS, *((SKIP,) if can_skip(layer, model.C) else ())):
                self.blocks[f"{layer}_{sym}"] = make_block(sym, c_in, c_out, stride)
        self.classifier = nn.Linear(widths(model.C)[-1][1], num_classes)

    def path(self, genome) -> ChainNet:
        layers = [self.blocks[f"{i}_{s}"] for i, s in enumerate(layer_blocks(genome))]
        return ChainNet(self.stem, layers, self.classifier)


def supernet(template, model, *, num_classes, input_shape, share="position"):
    return ChainSupernet(template, model, num_classes, input_shape, share)


SPACE = register_space(ChainSpace(
    CHAIN, main_kind="cell", required_mains=("net",), inputs=("x",),
    network=f"{__name__}:network", cost_model=f"{__name__}:cost_model", supernet=f"{__name__}:supernet",
    input_layout=("C", "H", "W"), example_input=(3, 32, 32),
    doc="a chain of inverted residual blocks (k3/k5, e3/e6) or skips"))
for _name, (_k, _e) in BLOCKS.items():
    register_op(Op(_name, 1, CHAIN, frozenset({MAIN}), doc=f"inverted residual, kernel {_k}, expansion {_e}"))
register_op(Op(SKIP, 1, CHAIN, frozenset({MAIN}), doc="identity (where the layer keeps its shape)"))
