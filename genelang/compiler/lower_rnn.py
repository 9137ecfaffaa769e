"""Lowering an rnn genome to a recurrent cell: one step, as straight-line fx code.

`cell(x, states) -> new_states`, states a list of tensors in the genome's
state order (the first is the output). States are computed in dependency
order (`S[t]` reads), ADFs once per step. The cell scripts with TorchScript.

Each operation's module is named `{gene}_{position}_{symbol}` and made by a
`Maker` (default: the op's builder); a supernet passes its own, which hands
out shared blocks, so a path's cell is this very code over shared weights.
"""
from __future__ import annotations

import operator
from typing import Callable, List

import torch
from torch import fx, nn

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.dag import expression
from genelang.compiler.opsets import RNN
from genelang.compiler.registry import get_op
from genelang.compiler.rnn_space import state_order


# (gene, Karva position, symbol, operand widths, hidden) -> (module, output width)
Maker = Callable[[str, int, str, List[int], int], "tuple[nn.Module, int]"]


def build_op(gene: str, index: int, symbol: str, widths: list[int], hidden: int) -> tuple[nn.Module, int]:
    """A fresh module for the operation (the compiled cell's own weights)."""
    return get_op(RNN, symbol).builder(widths, hidden)


class _Emitter:
    def __init__(self, genome: Genome, input_size: int, hidden: int, make: Maker):
        self.genome, self.input_size, self.hidden, self.make = genome, input_size, hidden, make
        self.root = nn.Module()
        self.graph = fx.Graph()
        self.env: dict[str, tuple[fx.Node, int]] = {}
        self.trees = {g.name: expression(genome, g) for g in genome.adfs}

    def value(self, sym: str) -> tuple[fx.Node, int]:
        if sym not in self.env and sym in self.trees:   # an ADF: computed once, on first use
            self.env[sym] = self.emit(sym, self.trees[sym])
        return self.env[sym]

    def emit(self, where: str, node: karva.Node) -> tuple[fx.Node, int]:
        if not node.children:
            return self.value(node.symbol)
        children = _mean_leaves(node) if node.symbol == "mean" else list(node.children)
        args = [self.emit(where, c) for c in children]
        module, width = self.make(where, node.index, node.symbol, [w for _, w in args], self.hidden)
        name = f"{where}_{node.index}_{node.symbol}"
        self.root.add_module(name, module)
        operands = [a for a, _ in args]
        call = (self.graph.call_module(name, (operands,)) if node.symbol == "mean"
                else self.graph.call_module(name, tuple(operands)))
        return call, width


def _mean_leaves(node: karva.Node) -> list[karva.Node]:
    if node.symbol != "mean":
        return [node]
    return [leaf for c in node.children for leaf in _mean_leaves(c)]


class RecurrentCell(nn.Module):
    """One step of a compiled recurrent genome."""

    def __init__(self, step: fx.GraphModule, states: list[str], input_size: int, hidden: int):
        super().__init__()
        self.step = step
        self.state_names = states
        self.n_states = len(states)
        self.input_size, self.hidden = input_size, hidden

    def forward(self, x: torch.Tensor, states: List[torch.Tensor]) -> List[torch.Tensor]:
        return self.step(x, states)

    @torch.jit.export
    def initial_states(self, batch: int, like: torch.Tensor) -> List[torch.Tensor]:
        return [like.new_zeros(batch, self.hidden) for _ in range(self.n_states)]


def lower_rnn_cell(genome: Genome, input_size: int, hidden: int, make: Maker = build_op) -> RecurrentCell:
    e = _Emitter(genome, input_size, hidden, make)
    states = [g.name for g in genome.mains]
    x = e.graph.placeholder("x", type_expr=torch.Tensor)
    prev = e.graph.placeholder("states", type_expr=List[torch.Tensor])
    e.env["x"] = (x, input_size)
    for i, s in enumerate(states):
        e.env[f"{s}[t-1]"] = (e.graph.call_function(operator.getitem, (prev, i)), hidden)
    for s in state_order(genome):
        node, width = e.emit(s, expression(genome, genome.gene(s)))
        if width != hidden:   # e.g. a state that is just `x` of another width
            proj = nn.Linear(width, hidden, bias=False)
            e.root.add_module(f"{s}_project", proj)
            node = e.graph.call_module(f"{s}_project", (node,))
        e.env[f"{s}[t]"] = (node, hidden)
    e.graph.output([e.env[f"{s}[t]"][0] for s in states])
    step = fx.GraphModule(e.root, e.graph, class_name="RecurrentStep")
    return RecurrentCell(step, states, input_size, hidden)


class Direction(nn.Module):
    """A cell run over time in one direction; returns the first state at every step."""

    def __init__(self, cell: RecurrentCell, reverse: bool = False):
        super().__init__()
        self.cell = cell
        self.reverse = reverse
        self.hidden = cell.hidden
        self.n_states = cell.n_states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.size(1)
        states = [x.new_zeros(x.size(0), self.hidden) for _ in range(self.n_states)]
        outs: List[torch.Tensor] = []
        for i in range(T):
            t = T - 1 - i if self.reverse else i
            states = self.cell(x[:, t], states)
            outs.append(states[0])
        if self.reverse:
            outs.reverse()
        return torch.stack(outs, 1)


class RecurrentLayer(nn.Module):
    """Runs a cell over a batch-first sequence; bidirectional with a second cell."""

    def __init__(self, cell: RecurrentCell, backward: RecurrentCell | None = None):
        super().__init__()
        self.forward_dir = Direction(cell)
        self.bidirectional = backward is not None
        self.backward_dir = Direction(backward if backward is not None else cell, reverse=True)
        self.out_size = cell.hidden * (2 if backward is not None else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.forward_dir(x)
        if self.bidirectional:
            out = torch.cat([out, self.backward_dir(x)], dim=-1)
        return out
