"""Which paths train together: a sampler gives each optimizer step its group
of genomes (`next_group(rng)`; their gradients are summed into one update).

- `uniform` (SPOS): one random valid genome per step.
- `strict-fair` (FairNAS carried to Karva positions): a group of m genomes, m
  the largest domain among the free positions; down every free position the
  group holds each allowed symbol once (a random permutation of its domain,
  padded with random draws where the domain is smaller than m). Swapping two
  genomes' symbols at one position keeps that, so the group is then improved
  by swaps: first until every genome is valid, then towards expressing every
  item of `shape.targets()` (the conv space: every (cell kind, gene, head
  position, function) — a symbol trains its block only where its position is
  coding and its ADF is reached by the cell).

A controller (or any policy) drives training by being such a sampler.
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Protocol

from genelang.compiler.template import Symbols
from genelang.runtime.supernet.shape import SearchShape


class PathSampler(Protocol):
    def next_group(self, rng: random.Random) -> list[Symbols]: ...


class Uniform:
    def __init__(self, shape: SearchShape):
        self.shape = shape

    def next_group(self, rng: random.Random) -> list[Symbols]:
        return [self.shape.random_genome(rng)]


class StrictFair:
    def __init__(self, shape: SearchShape, swaps_per_path: int = 40, tries: int = 5):
        self.shape, self.swaps, self.tries = shape, swaps_per_path, tries
        self.repaired = 0
        self.free, self.m = shape.free, shape.widest
        self.target = shape.targets()

    def draw(self, rng: random.Random) -> list[Symbols]:
        """A group in which every free position takes each of its symbols once."""
        group = [[[d[0] for d in g.domains] for g in self.shape.genes] for _ in range(self.m)]
        for gi, p in self.free:
            d = self.shape.genes[gi].domains[p]
            column = rng.sample(d, len(d)) + [rng.choice(d) for _ in range(self.m - len(d))]
            for j, sym in enumerate(column):
                group[j][gi][p] = sym
        return group

    def next_group(self, rng: random.Random) -> list[Symbols]:
        """A valid fair group; after `tries` draws that swaps could not make all
        valid, the invalid genomes of the last are replaced by random ones (the
        group is then fair only where they agree; `repaired` counts such genomes)."""
        for _ in range(self.tries):
            swapper = _Swapper(self, self.draw(rng))
            group = swapper.improve(rng, self.swaps * self.m)
            if all(swapper.valid):
                return group
        bad = [j for j, ok in enumerate(swapper.valid) if not ok]
        self.repaired += len(bad)
        for j in bad:
            group[j] = self.shape.random_genome(rng)
        return group


class _Swapper:
    """Hill climbing by column swaps on (valid genomes, items expressed)."""

    def __init__(self, fair: StrictFair, group: list[Symbols]):
        self.fair, self.group = fair, group
        self.valid = [fair.shape.is_valid(s) for s in group]
        self.items = [fair.shape.expressed(s) & fair.target for s in group]
        self.count = Counter(i for s in self.items for i in s)

    def score(self) -> tuple[int, int]:
        return sum(self.valid), len(self.count)

    def _swap(self, j: int, k: int, gi: int, ps: list[int]) -> None:
        g = self.group
        for p in ps:
            g[j][gi][p], g[k][gi][p] = g[k][gi][p], g[j][gi][p]
        for i in (j, k):
            self.count.subtract(self.items[i])
            self.valid[i] = self.fair.shape.is_valid(g[i])
            self.items[i] = self.fair.shape.expressed(g[i]) & self.fair.target
            self.count.update(self.items[i])
        self.count = +self.count     # drop items no genome expresses any more

    def improve(self, rng: random.Random, budget: int) -> list[Symbols]:
        best, full = self.score(), (len(self.group), len(self.fair.target))
        for _ in range(budget if self.fair.free and len(self.group) > 1 else 0):
            if best == full:
                break
            bad = [j for j, ok in enumerate(self.valid) if not ok]
            j = rng.choice(bad) if bad else rng.randrange(len(self.group))
            k = rng.choice([x for x in range(len(self.group)) if x != j])
            gi, p = rng.choice(self.fair.free)
            # one position, or the whole gene (a genome's invalid cell is often a gene's fault)
            ps = [p] if rng.random() < 0.5 else [q for g, q in self.fair.free if g == gi]
            self._swap(j, k, gi, ps)
            now = self.score()
            if now >= best:
                best = now
            else:
                self._swap(j, k, gi, ps)
        return self.group


class Distinct:
    """Isomorphism-aware sampling: a group of m genomes of m different
    computations (`shape.computation`), each computation as likely as any
    other however many genomes write it — so a supernet does not train the
    networks with many spellings (e.g. NAS-Bench-201 cells with dead edges)
    more than the rest. m as strict-fair's: the largest domain of a free position.
    Needs a space small enough to list (`shape.genomes`)."""

    def __init__(self, shape: SearchShape):
        self.shape = shape
        classes: dict[str, list[Symbols]] = {}
        for syms in shape.genomes():
            classes.setdefault(shape.computation(syms), []).append(syms)
        self.classes = list(classes.values())
        self.m = min(len(self.classes), shape.widest)

    def next_group(self, rng: random.Random) -> list[Symbols]:
        return [[list(g) for g in rng.choice(c)] for c in rng.sample(self.classes, self.m)]


SAMPLERS = {"uniform": Uniform, "strict-fair": StrictFair, "distinct": Distinct}   # name -> class(shape)
