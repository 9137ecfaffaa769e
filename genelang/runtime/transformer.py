"""The transformer space's PyTorch side: a genome's block lowered to a
`torch.fx.GraphModule` (each DAG node once, in order, as straight-line code:
it scripts, exports and prints as Python like the other cells), stacked into
the layers of a sequence model, with sinusoidal positions added first."""
from __future__ import annotations

import math
import operator

import torch
from torch import fx, nn

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.dag import main_graph
from genelang.runtime.config import ModelConfig


class SelfAttention(nn.Module):
    """Multi-head self-attention with nn.MultiheadAttention's parameters (`qkv`
    is its in-projection, q, k and v stacked; `out` its out-projection),
    written with plain layers so every export target can write it; causal
    when asked (a language model must not read the tokens it predicts)."""

    def __init__(self, width: int, heads: int, causal: bool):
        super().__init__()
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.heads, self.causal = heads, causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, w = x.shape
        qkv = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        y = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=self.causal)
        return self.out(y.transpose(1, 2).reshape(b, t, w))


class FeedForward(nn.Module):
    def __init__(self, width: int, inner: int):
        super().__init__()
        self.linear1, self.act, self.linear2 = nn.Linear(width, inner), nn.GELU(), nn.Linear(inner, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.act(self.linear1(x)))


class DepthwiseConv(nn.Module):
    """Kernel-3 depthwise convolution over time; causal: it reads only the past."""

    def __init__(self, width: int, causal: bool):
        super().__init__()
        self.conv = nn.Conv1d(width, width, 3, groups=width, padding=0)
        self.left = 2 if causal else 1
        self.right = 0 if causal else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.pad(x.transpose(1, 2), (self.left, self.right))
        return self.conv(y).transpose(1, 2)


class Gate(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * torch.sigmoid(b)


def _op(symbol: str, width: int, model: ModelConfig, causal: bool) -> nn.Module | None:
    """The module of one operation (None: a function, `add`)."""
    return {"attn": lambda: SelfAttention(width, model.heads, causal),
            "ffn": lambda: FeedForward(width, model.ffn),
            "conv": lambda: DepthwiseConv(width, causal),
            "ln": lambda: nn.LayerNorm(width),
            "gelu": nn.GELU,
            "gate": Gate,
            "add": lambda: None}[symbol]()


def heads_mismatch(width: int, heads: int) -> str | None:
    """Why a block `width` wide cannot split among `heads` attention heads, or None."""
    return f"the model width {width} does not divide into {heads} attention heads" if width % heads else None


def lower_block(genome: Genome, width: int, model: ModelConfig, causal: bool = False) -> fx.GraphModule:
    """The genome's block at `width` ([B, T, width] -> [B, T, width])."""
    if (problem := heads_mismatch(width, model.heads)) is not None:
        raise ValueError(problem)
    root, graph = nn.Module(), fx.Graph()
    env = {"x": graph.placeholder("x")}
    count = [0]

    def emit(node: karva.Node) -> fx.Node:
        if not node.children:
            return env[node.symbol]
        args = tuple(emit(c) for c in node.children)
        module = _op(node.symbol, width, model, causal)
        if module is None:
            return graph.call_function(operator.add, args)
        name = f"{node.symbol}{count[0]}"
        count[0] += 1
        root.add_module(name, module)
        return graph.call_module(name, args)

    dag = main_graph(genome, "out")
    for name, tree in [*dag.adfs, (dag.name, dag.root)]:
        env[name] = emit(tree)
    graph.output(env[dag.name])
    gm = fx.GraphModule(root, graph, class_name="TransformerBlock")
    gm.out_size = width
    return gm


class Positions(nn.Module):
    """Sinusoidal positions added to the input (projected to the model width first when it differs)."""

    def __init__(self, input_size: int, width: int, max_len: int = 4096):
        super().__init__()
        self.project = nn.Linear(input_size, width) if input_size != width else nn.Identity()
        pos = torch.arange(max_len)[:, None]
        freq = torch.exp(torch.arange(0, width, 2) * (-math.log(10000.0) / width))
        table = torch.zeros(max_len, width)
        table[:, 0::2] = torch.sin(pos * freq)
        table[:, 1::2] = torch.cos(pos * freq)[:, : width // 2]
        self.register_buffer("table", table, persistent=False)
        self.out_size = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(x)
        return x + self.table.narrow(0, 0, x.size(1)).to(x.dtype)


def transformer_layers(genome: Genome, *, input_size: int, hidden: int, layers: int, bidirectional: bool,
                       causal: bool, model: ModelConfig) -> nn.ModuleList:
    """The sequence model's layers: positions, then `layers` blocks of the genome
    (each with its own weights). Attention sees the whole sequence at once, so
    `bidirectional` has nothing to add; `causal` (language models) masks the future."""
    out = nn.ModuleList([Positions(input_size, hidden),
                         *(lower_block(genome, hidden, model, causal) for _ in range(layers))])
    # A residual stream carries each token's own embedding to the output, so an
    # output matrix tied to the embeddings first predicts the current token
    # (loss ~11 at init on a 70-word vocabulary, 3,974 perplexity after 3 epochs
    # where the untied model reaches 34): language models keep them separate.
    out.tie_output = False
    return out


def transformer_network(genome: Genome, model: ModelConfig, *, num_classes: int,
                        input_shape: tuple[int, ...]) -> nn.Module:
    """The layers alone over dense input [B, T, F] (what `compile` ships)."""
    return nn.Sequential(*transformer_layers(genome, input_size=input_shape[1], hidden=model.hidden,
                                             layers=model.rnn_layers, bidirectional=False, causal=False,
                                             model=model))
