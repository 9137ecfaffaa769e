"""The built-in spaces and operation sets (names and arities only).

conv: NASGEP conv blocks (ReLU → conv → BN), DARTS primitives under DARTS's own
names, and the linking functions `add` and `cat`. Cell inputs are `h1` (the
previous cell's output) and `h2` (the one before it).

rnn: the gene-nas recurrent set. Inputs are `x`, `S[t-1]` (a state's previous
value) and `S[t]` (a state's new value, for states computed before this one).
"""
from __future__ import annotations

import re

from genelang.compiler.conv_space import CONV_INPUTS, ConvSpace, NasgepPools
from genelang.compiler.registry import ADF, MAIN, Op, register_op, register_space
from genelang.compiler.rnn_space import RNN_STATE, RnnSpace

CONV, RNN = "conv", "rnn"
NASGEP_SIZES = ("3x3", "5x5", "3x5", "5x3", "1x7", "7x1")
DARTS_OPS = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
             "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
__all__ = ["CONV", "RNN", "CONV_INPUTS", "RNN_STATE"]

# networks are built by the runtime, named here and imported only when built
register_space(ConvSpace(
    CONV, main_kind="cell", required_mains=("normal", "reduction"),
    allowed_mains=re.compile(r"^(normal|reduction)$"),
    builders_module="genelang.compiler.conv_ops", inputs=CONV_INPUTS,
    network="genelang.runtime.build:conv_network", cost_model="genelang.runtime.cost_table:task_cost_table",
    supernet="genelang.runtime.supernet.conv:conv_supernet", skeletons=("nasgep", "darts"),
    input_layout=("C", "H", "W"),
    example_input=(3, 32, 32), pools=NasgepPools(), aliases=("cnn", "image", "images"),
    doc="image cells: ADFs of conv ops over h1/h2, cells linking ADFs"))
register_space(RnnSpace(
    RNN, main_kind="state", builders_module="genelang.compiler.rnn_ops", inputs=("x",),
    network="genelang.runtime.build:rnn_network", modality="sequence",
    sequence_layers="genelang.runtime.sequence:recurrent_layers", input_layout=("T", "F"),
    supernet="genelang.runtime.supernet.rnn:rnn_supernet",
    example_input=(16, 32),
    aliases=("recurrent", "lstm", "gru", "sequence"),
    doc="recurrent cells: one program per state over x, S[t-1] and earlier S[t]"))

BOTH = frozenset({ADF, MAIN})
ADF_ONLY = frozenset({ADF})

register_op(Op("pw", 1, CONV, ADF_ONLY, doc="pointwise 1×1 conv block"))
for size in NASGEP_SIZES:
    register_op(Op(f"dw{size}", 1, CONV, ADF_ONLY, doc=f"depthwise {size} conv block"))
    register_op(Op(f"sep{size}", 1, CONV, ADF_ONLY, doc=f"separable {size}: pointwise then depthwise"))
    register_op(Op(f"isep{size}", 1, CONV, ADF_ONLY,
                   doc=f"inverse separable {size}: depthwise then pointwise"))
for name in DARTS_OPS:
    register_op(Op(name, 1, CONV, ADF_ONLY, doc=f"DARTS primitive {name}"))
register_op(Op("add", 2, CONV, BOTH, doc="element-wise sum"))
register_op(Op("cat", 2, CONV, BOTH, doc="channel concatenation (nested cats flatten)"))

for name, arity, doc in [
    ("add", 2, "element-wise sum"),
    ("mul", 2, "element-wise product"),
    ("cat_linear", 2, "concatenate, then Linear to the hidden size"),
    ("blend", 3, "a·c + b·(1−c)"),
    ("mean", 2, "element-wise mean (nested means flatten)"),
    ("linear", 1, "Linear to the hidden size"),
    ("sigmoid", 1, "sigmoid"), ("tanh", 1, "tanh"), ("relu", 1, "ReLU"),
    ("leaky_relu", 1, "leaky ReLU"), ("identity", 1, "identity"),
    ("layer_norm", 1, "layer normalisation"),
]:
    register_op(Op(name, arity, RNN, BOTH, doc=doc))
