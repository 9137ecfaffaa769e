"""PyTorch builders for the NAS-Bench-201 space: its `OPS` at stride 1, C → C,
as NATS-Bench's `cell_operations.py` builds them inside a cell (ReLU → conv →
BN with affine BN and a bias-free conv; average pooling without the padding in
the count; `none` multiplies by zero)."""
from __future__ import annotations

from torch import nn

from genelang.compiler.conv_ops import ReLUConvBN, Zero
from genelang.compiler.nb201 import NB201
from genelang.compiler.registry import set_builder

# `affine=False`: the BN of a search cell's op (NB201's and DARTS's search code), not of a built network
BUILDERS = {
    "none": lambda C, affine=True: Zero(1),
    "skip_connect": lambda C, affine=True: nn.Identity(),
    "nor_conv_1x1": lambda C, affine=True: ReLUConvBN(C, C, 1, 1, 0, affine),
    "nor_conv_3x3": lambda C, affine=True: ReLUConvBN(C, C, 3, 1, 1, affine),
    "avg_pool_3x3": lambda C, affine=True: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
}

for _name, _build in BUILDERS.items():
    set_builder(NB201, _name, _build)
