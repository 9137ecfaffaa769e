"""The transformer space: an encoder block as a Karva program over sequence
operations, in GEP's spirit rather than a fixed block with hyperparameters
(docs/transformer.md says why). The block reads `x` ([batch, time, width]);
ADFs are shared sub-blocks (an ADF used twice is computed once); the main
gene `cell out` is the block's output. Every operation keeps the width, so
any program is a valid block. The standard post-LN encoder layer is

    genome post_ln on transformer {
        adf a1    = ln add x attn | x x x x x
        cell out  = ln add a1 ffn | a1 a1 a1 a1 a1
    }

i.e. out = ln(a1 + ffn(a1)), a1 = ln(x + attn(x)). Widths, heads and the
FFN's width come from the model (`hidden`, `heads`, `ffn`); blocks stack
`rnn_layers` deep. Language only: the PyTorch side is runtime/transformer.py.
"""
from __future__ import annotations

import re

from genelang.compiler.registry import ADF, MAIN, Op, Space, register_op, register_space

TRANSFORMER = "transformer"
BOTH = frozenset({ADF, MAIN})

register_space(Space(
    TRANSFORMER, main_kind="cell", required_mains=("out",), allowed_mains=re.compile(r"^out$"),
    inputs=("x",), network="genelang.runtime.transformer:transformer_network",
    sequence_layers="genelang.runtime.transformer:transformer_layers", modality="sequence",
    input_layout=("T", "F"), example_input=(16, 32), aliases=("attention", "bert", "encoder"),
    doc="encoder blocks: programs over attention, feed-forward, depthwise conv, gating, add, layer norm"))

OPS = {  # name: (arity, what it does)
    "attn": (1, "multi-head self-attention (model.heads heads; causal for language models)"),
    "ffn": (1, "feed-forward: Linear to model.ffn, GELU, Linear back"),
    "conv": (1, "depthwise 1-D convolution over time, kernel 3 (causal for language models)"),
    "ln": (1, "layer normalisation"),
    "gelu": (1, "GELU"),
    "add": (2, "element-wise sum (a residual connection)"),
    "gate": (2, "a · sigmoid(b): a gated linear unit"),
}
for _name, (_arity, _doc) in OPS.items():
    register_op(Op(_name, _arity, TRANSFORMER, BOTH, doc=_doc))
