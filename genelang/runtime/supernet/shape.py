"""What a supernet is built over, as plain data.

`SearchShape` serves every space: the search's gene template (per position,
the symbols it may hold) and what an operation's block is shared across.
Samplers ask it which (gene, position, symbol) items a genome trains
(`expressed`) and which a group of paths should cover (`targets`); a space
whose positions are not all coding (the conv space: a symbol trains its block
only where its Karva position is read) says so by overriding both.
`SupernetShape` is the conv space's: the skeleton its cells are stacked in.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import random
from dataclasses import dataclass

from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.conv_space import CELLS
from genelang.compiler.dag import main_graph
from genelang.compiler.registry import arity_fn, get_space
from genelang.compiler.template import Slot, Symbols, Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.networks import layout, make_head

Item = tuple     # what a path trains; each space's shape says what its items are


@dataclass(frozen=True)
class SearchShape:
    template: Template
    share: str                                  # what an operation's block is shared across

    @property
    def space(self) -> str:
        return self.template.space

    @property
    def genes(self) -> tuple[Slot, ...]:
        return self.template.slots

    def arity(self, symbol: str) -> int:
        return arity_fn(self.space)(symbol)

    @property
    def free(self) -> list[tuple[int, int]]:
        """(gene index, position) of every position a search varies."""
        return [(gi, p) for gi, g in enumerate(self.genes) for p in g.free]

    @property
    def widest(self) -> int:
        """The most symbols a free position may hold (1: nothing varies)."""
        return max((len(self.genes[gi].domains[p]) for gi, p in self.free), default=1)

    def gene(self, name: str) -> Slot:
        return next(g for g in self.genes if g.name == name)

    def genome(self, syms: Symbols, name: str = "path") -> Genome:
        return self.template.genome(syms, name)

    def is_valid(self, syms: Symbols) -> bool:
        return self.template.is_valid(syms)

    def random_genome(self, rng: random.Random) -> Symbols:
        """A random valid genome (an invalid draw is drawn again)."""
        return self.template.random(rng)

    def expressed(self, syms: Symbols) -> set[Item]:
        """The (gene, position, symbol) whose blocks the genome runs: every free position."""
        return {(g.name, p, syms[gi][p]) for gi, g in enumerate(self.genes) for p in g.free}

    def computation(self, syms: Symbols) -> str:
        """What the genome computes (`Space.computation`): equal for genomes one network."""
        return get_space(self.space).computation(self.genome(syms))

    def genomes(self, limit: int = 1_000_000):
        """Every valid genome of the template (its free positions' product), for
        spaces small enough to list (ValueError past `limit`)."""
        free = self.free
        size = math.prod(len(self.genes[gi].domains[p]) for gi, p in free)
        if size > limit:
            raise ValueError(f"the space has {size:,} genomes, more than {limit:,} to list")
        base = [[d[0] for d in g.domains] for g in self.genes]
        for choice in itertools.product(*(self.genes[gi].domains[p] for gi, p in free)):
            syms = [list(g) for g in base]
            for (gi, p), s in zip(free, choice):
                syms[gi][p] = s
            if self.is_valid(syms):
                yield syms

    def restricted(self, gene: int, pos: int, symbol: str) -> "SearchShape":
        """The sub-space whose genomes hold `symbol` at (gene, pos): one few-shot split."""
        slots = list(self.genes)
        g = slots[gene]
        if symbol not in g.domains[pos]:
            raise ValueError(f"{symbol!r} is not a choice at {g.name}[{pos}]")
        domains = g.domains[:pos] + ((symbol,),) + g.domains[pos + 1:]
        slots[gene] = Slot.fixed(g.kind, g.name, g.head_len, domains)
        return dataclasses.replace(self, template=dataclasses.replace(self.template, slots=tuple(slots)))

    def splits(self, gene: int, pos: int) -> list["SearchShape"]:
        """Few-shot NAS's partition of the space: one sub-space per choice at (gene, pos)."""
        return [self.restricted(gene, pos, s) for s in self.genes[gene].domains[pos]]

    def targets(self) -> set[Item]:
        """What a group of paths should train between them."""
        return {(g.name, p, s) for g in self.genes for p in g.free for s in g.domains[p]}


@dataclass(frozen=True)
class SupernetShape(SearchShape):
    """The conv space's: cells stacked in a skeleton, one block per (cell, gene, position, symbol)."""
    plan: tuple[bool, ...]                      # reduction flag of each cell of the skeleton
    C: int
    C_stem: int
    in_channels: int
    num_classes: int
    skeleton: str

    @classmethod
    def of(cls, template: Template, model: ModelConfig, *, num_classes: int, in_channels: int,
           share: str = "position") -> "SupernetShape":
        """The shape of `build_network(genome, model...)` for every genome of `template`."""
        lay = layout(model.skeleton, N=model.N, layers=model.layers)
        return cls(template, share, lay.plan, model.C, lay.stem_multiplier * model.C, in_channels, num_classes,
                   model.skeleton)

    @property
    def head(self) -> bool:
        """Whether the skeleton has a head block before the pooling (nasgep's BN + ReLU)."""
        return not isinstance(make_head(self.skeleton, 1), nn.Identity)

    def cell_gene(self, reduction: bool) -> Slot:
        return self.gene(CELLS[reduction])

    def cell_genes(self, reduction: bool) -> list[Slot]:
        """The genes whose nodes a cell of this kind may compute: every ADF and its main program."""
        return [g for g in self.genes if g.kind == "adf"] + [self.cell_gene(reduction)]

    def expressed(self, syms: Symbols) -> set[Item]:
        """The (cell kind, gene, position, function) whose blocks a genome runs: a
        symbol trains its block only where its position is coding and its ADF is reached."""
        genome = self.genome(syms)
        out: set[Item] = set()
        for reduction in (False, True):
            dag = main_graph(genome, self.cell_gene(reduction).name)
            for gene, tree in (*dag.adfs, (dag.name, dag.root)):
                out.update((reduction, gene, n.index, n.symbol) for n in tree.walk() if n.children)
        return out

    def targets(self) -> set[Item]:
        return {(r, g.name, p, s) for r in (False, True) for g in self.cell_genes(r)
                for p, d in enumerate(g.domains) for s in d if self.arity(s) > 0}
