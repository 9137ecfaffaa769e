"""Few-shot NAS (Zhao et al., ICML 2021): the space split at one free
position into one sub-space per symbol it may hold (`SearchShape.splits`),
one sub-supernet trained per part, and each genome scored by the
sub-supernet of its part — the one whose weights never served genomes that
differ from it at that position."""
from __future__ import annotations

from typing import Sequence

from genelang.compiler.ast import Genome
from genelang.compiler.template import Slot


def route(genes: Sequence[Slot], gene: int, pos: int, genome: Genome) -> int:
    """The index of `genome`'s part in `SearchShape.splits(gene, pos)` of a shape
    with these `genes`: its symbol's place in that position's domain."""
    g = genome.genes[gene]
    symbol = (g.head + g.tail)[pos]
    domain = genes[gene].domains[pos]
    if symbol not in domain:
        raise ValueError(f"{genome.name}: {symbol!r} at {g.name}[{pos}] is in no split of {domain}")
    return domain.index(symbol)
