"""Lowering an NB201 genome's cell to a `torch.fx.GraphModule` `forward(x)`:
each node once, in order, each edge with its own module named after the edge
(`e02_nor_conv_3x3` is the edge 0→2)."""
from __future__ import annotations

import operator
from typing import Callable

from torch import fx, nn

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.dag import main_graph
from genelang.compiler.nb201 import INPUT, NB201, NODE_NAMES, check_shape
from genelang.compiler.registry import get_op


def lower_nb201_cell(genome: Genome, C: int,
                     block: Callable[[str, str], nn.Module] | None = None) -> fx.GraphModule:
    """The cell at C channels (C → C, stride 1). `block(edge name, op)` gives
    an edge's module (a supernet's shared one); default: a new one."""
    problems = check_shape(genome)
    if problems:
        raise ValueError(f"not an NB201 cell: {problems[0].message}")
    root, graph = nn.Module(), fx.Graph()
    env = {INPUT: graph.placeholder(INPUT)}

    def emit(j: int, node: karva.Node) -> fx.Node:
        if not node.children:
            return env[node.symbol]
        if node.symbol == "add":
            a, b = (emit(j, c) for c in node.children)
            return graph.call_function(operator.add, (a, b))
        src = NODE_NAMES.index(node.children[0].symbol)
        name = f"e{src}{j}_{node.symbol}"
        root.add_module(name, block(name, node.symbol) if block else get_op(NB201, node.symbol).builder(C))
        return graph.call_module(name, (emit(j, node.children[0]),))

    dag = main_graph(genome, NODE_NAMES[-1])
    for name, tree in [*dag.adfs, (dag.name, dag.root)]:
        env[name] = emit(NODE_NAMES.index(name), tree)
    graph.output(env[dag.name])
    return fx.GraphModule(root, graph, class_name="NB201Cell")
