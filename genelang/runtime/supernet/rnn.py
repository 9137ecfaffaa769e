"""The rnn space's supernet hook (`Space.supernet`): a recurrent language
model whose cell's weights are shared by every genome of a template.

Blocks are keyed `l{layer}.{gene}.{position}.{symbol}` — the operation
`symbol` at Karva position `position` of gene `gene` (a state or an ADF) in
recurrent layer `layer` — as ENAS keys its recurrent weights by (node,
predecessor, activation) and the conv supernet by (cell, gene, position,
symbol). `share: gene` drops the position (`l{layer}.{gene}.{symbol}`),
`share: cell` the gene too (`l{layer}.{symbol}`). Only operations with
weights have blocks (`linear`, `cat_linear`, `layer_norm`): with every width
equal to `hidden` the others (add, mul, blend, mean, activations) have none,
so a path makes them fresh. The embedding and the output layer (tied, as in
the stand-alone language model) are shared by all paths.

A path is `build_sequence_model`'s network for the genome (the same
`SequenceModel`, its cell lowered by `lower_rnn_cell` with a maker that hands
out the shared blocks), so its state dict loads into the stand-alone network
and the two compute the same function.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.lower_rnn import RecurrentLayer, build_op, lower_rnn_cell
from genelang.compiler.template import Symbols, Template
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.sequence import SequenceModel
from genelang.runtime.supernet.keys import module_name
from genelang.runtime.supernet.shape import Item, SearchShape
from genelang.runtime.tbptt import init_lm


class RnnShape(SearchShape):
    """A free Karva template: a symbol trains its block only where its position is coding."""

    def expressed(self, syms: Symbols) -> set[Item]:
        out: set[Item] = set()
        for g, s in zip(self.genes, syms):
            tree = karva.decode(s, self.arity)
            out.update((g.name, n.index, n.symbol) for n in tree.walk() if n.children)
        return out

    def targets(self) -> set[Item]:
        return {(g.name, p, s) for g in self.genes for p, d in enumerate(g.domains[: g.head_len])
                for s in d if self.arity(s) > 0}


def block_key(layer: int, gene: str, pos: int, symbol: str, share: str = "position") -> str:
    site = {"position": f"l{layer}.{gene}.{pos}", "gene": f"l{layer}.{gene}", "cell": f"l{layer}"}[share]
    return f"{site}.{symbol}"


class RnnSupernet(nn.Module):
    def __init__(self, template: Template, vocab: int, hidden: int, layers: int = 1, dropout: float = 0.0,
                 share: str = "position", path_cache: int = 256):
        super().__init__()
        self.shape = RnnShape(template, share)
        self.hidden, self.layers, self.dropout = hidden, layers, dropout
        self.embed = nn.Embedding(vocab, hidden)
        self.out = nn.Linear(hidden, vocab)
        self.out.weight = self.embed.weight          # tied, as the stand-alone language model
        init_lm(self)
        self.blocks = nn.ModuleDict()
        for layer in range(layers):
            for g in self.shape.genes:
                for pos, domain in enumerate(g.domains[: g.head_len]):
                    for sym in domain:
                        key = module_name(block_key(layer, g.name, pos, sym, share))
                        if self.shape.arity(sym) > 0 and key not in self.blocks and self._weighted(sym):
                            self.blocks[key] = self._build(sym)
        self._paths: OrderedDict[Genome, SequenceModel] = OrderedDict()
        self._path_cache = path_cache

    def _build(self, symbol: str) -> nn.Module:
        return build_op("", 0, symbol, [self.hidden] * self.shape.arity(symbol), self.hidden)[0]

    def _weighted(self, symbol: str) -> bool:
        return any(True for _ in self._build(symbol).parameters())

    def _maker(self, layer: int):
        def make(gene: str, index: int, symbol: str, widths: list[int], hidden: int):
            key = module_name(block_key(layer, gene, index, symbol, self.shape.share))
            if key in self.blocks:
                return self.blocks[key], hidden
            module, width = build_op(gene, index, symbol, widths, hidden)
            if any(True for _ in module.parameters()):
                raise KeyError(f"the supernet has no block {key!r}: the genome is not of its space")
            return module, width
        return make

    def path(self, genome: Genome) -> SequenceModel:
        """The genome's language model over the shared weights (the most recent
        `path_cache` kept: a path holds no weights of its own)."""
        model = self._paths.pop(genome, None)
        if model is None:
            rnn = nn.ModuleList(RecurrentLayer(lower_rnn_cell(genome, self.hidden, self.hidden, self._maker(i)))
                                for i in range(self.layers))
            model = SequenceModel(self.embed, rnn, self.dropout, "lm", self.out)
        self._paths[genome] = model
        while len(self._paths) > self._path_cache:
            self._paths.popitem(last=False)
        return model

    def objective(self, task: TaskConfig, batch_size: int, seed: int):
        """Truncated BPTT over the task's training stream (`runtime.tbptt`)."""
        from genelang.runtime.task_data import task_data
        from genelang.runtime.tbptt import TBPTT, Streams
        _, s = task_data(task)
        return TBPTT(Streams.of(s.train[0], s.train[2], batch_size), self.dropout, seed)

    def forward(self, x, genome: Genome):
        return self.path(genome)(x)


def rnn_supernet(template: Template, model: ModelConfig, *, num_classes: int, input_shape: tuple[int, ...] = (),
                 share: str = "position") -> RnnSupernet:
    """`num_classes`: the language model's vocabulary. The embedding is `hidden`
    wide, as the stand-alone language model's (`runtime.models.make_model`)."""
    return RnnSupernet(template, num_classes, model.hidden, model.rnn_layers, model.dropout, share)
