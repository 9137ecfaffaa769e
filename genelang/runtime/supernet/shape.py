"""What a supernet is built over, as plain data: the genes of a search's
genome space (per position, the symbols it may hold) and the skeleton the
cells are stacked in. `evolve` converts its Template into this; the runtime
never sees a Template."""
from __future__ import annotations

import random
from dataclasses import dataclass

from torch import nn

from genelang.compiler.ast import Gene, Genome
from genelang.compiler.check import check_genome
from genelang.compiler.registry import arity_fn
from genelang.runtime.config import ModelConfig
from genelang.runtime.networks import layout, make_head

Symbols = list[list[str]]       # one list per gene: head + tail


@dataclass(frozen=True)
class GeneShape:
    kind: str                                   # "adf" or "cell"
    name: str
    head_len: int
    domains: tuple[tuple[str, ...], ...]        # per position (head then tail): the symbols allowed


@dataclass(frozen=True)
class SupernetShape:
    space: str
    genes: tuple[GeneShape, ...]
    plan: tuple[bool, ...]                      # reduction flag of each cell of the skeleton
    C: int
    C_stem: int
    in_channels: int
    num_classes: int
    skeleton: str
    share: str = "position"                     # what an operation's block is shared across (keys.SHARES)

    @classmethod
    def of(cls, space: str, genes: tuple[GeneShape, ...], model: ModelConfig, *,
           num_classes: int, in_channels: int, share: str = "position") -> "SupernetShape":
        """The shape of `build_network(genome, model...)` for every genome of `genes`."""
        lay = layout(model.skeleton, N=model.N, layers=model.layers)
        return cls(space, genes, lay.plan, model.C, lay.stem_multiplier * model.C, in_channels, num_classes,
                   model.skeleton, share)

    @property
    def head(self) -> bool:
        """Whether the skeleton has a head block before the pooling (nasgep's BN + ReLU)."""
        return not isinstance(make_head(self.skeleton, 1), nn.Identity)

    def arity(self, symbol: str) -> int:
        return arity_fn(self.space)(symbol)

    def cell_gene(self, reduction: bool) -> GeneShape:
        return self.gene("reduction" if reduction else "normal")

    def gene(self, name: str) -> GeneShape:
        return next(g for g in self.genes if g.name == name)

    def cell_genes(self, reduction: bool) -> list[GeneShape]:
        """The genes whose nodes a cell of this kind may compute: every ADF and its main program."""
        return [g for g in self.genes if g.kind == "adf"] + [self.cell_gene(reduction)]

    def genome(self, syms: Symbols, name: str = "path") -> Genome:
        return Genome(name, self.space, tuple(Gene(g.kind, g.name, tuple(s[: g.head_len]), tuple(s[g.head_len:]))
                                              for g, s in zip(self.genes, syms)))

    def is_valid(self, syms: Symbols) -> bool:
        return not check_genome(self.genome(syms))

    def random_genome(self, rng: random.Random, tries: int = 1000) -> Symbols:
        """A random valid genome (an invalid draw, a reduction cell that cannot reduce, is drawn again)."""
        for _ in range(tries):
            syms = [[rng.choice(d) for d in g.domains] for g in self.genes]
            if self.is_valid(syms):
                return syms
        raise RuntimeError("could not draw a valid genome; widen the space (more ADFs or ops)")
