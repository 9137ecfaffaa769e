"""A space defined outside genelang, as a user's plugin module would: its own
operations, terminals, extra rule and network, registered on import."""
from __future__ import annotations

import torch
from torch import nn

from genelang.compiler import dag
from genelang.compiler.registry import ADF, MAIN, Op, Space, register_op, register_space

BOTH = frozenset({ADF, MAIN})


class TinySpace(Space):
    def check_extra(self, genome, report, clean):
        if clean and len(genome.mains) > 2:
            report("tiny", f"genome {genome.name!r} has {len(genome.mains)} outputs", genome.pos,
                   "a tiny genome has at most two cells")


class _Expression(nn.Module):
    """Evaluates the genome's first cell on inputs u = x[:, 0] and v = x[:, 1]."""

    def __init__(self, genome):
        super().__init__()
        self.trees = {g.name: dag.expression(genome, g) for g in genome.genes}
        self.root = self.trees[genome.mains[0].name]
        self.scale = nn.Parameter(torch.ones(()))

    def value(self, node, env):
        if node.symbol in env:
            return env[node.symbol]
        if node.symbol in self.trees:
            return self.value(self.trees[node.symbol], env)
        args = [self.value(c, env) for c in node.children]
        return -args[0] if node.symbol == "neg" else args[0] + args[1]

    def forward(self, x):
        return self.scale * self.value(self.root, {"u": x[:, 0], "v": x[:, 1]})


def network(genome, model, *, num_classes, input_shape):
    return _Expression(genome)


SPACE = register_space(TinySpace(
    "tiny", main_kind="cell", inputs=("u", "v"), network=f"{__name__}:network",
    input_layout=("F",), example_input=(2,), doc="sums and negations of two numbers"))
register_op(Op("neg", 1, "tiny", BOTH, doc="negation"))
register_op(Op("plus", 2, "tiny", BOTH, doc="sum"))
