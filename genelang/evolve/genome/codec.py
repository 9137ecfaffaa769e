"""A search's genomes as rows of symbol ids, so the GEP operators can act on a
whole population at once with numpy (one call per operator and generation,
not one per individual). The template fixes every row's layout: genes side by
side, each head then tail, and each column's domain."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import chain

import numpy as np

from genelang.compiler.registry import arity_fn
from genelang.compiler.template import Symbols, Template


@dataclass(frozen=True, eq=False)
class Codec:
    template: Template
    symbols: tuple[str, ...]         # id -> symbol
    index: dict                      # symbol -> id
    arity: np.ndarray                # id -> arity (0: terminal)
    starts: np.ndarray               # gene -> first column
    heads: np.ndarray                # gene -> head length
    lengths: np.ndarray              # gene -> head + tail
    gene_of: np.ndarray              # column -> gene
    domain: np.ndarray               # column -> padded ids its position may hold
    domain_size: np.ndarray          # column -> how many of them
    member: np.ndarray               # (column, id) -> may the column hold the id
    swappable: tuple[tuple[int, ...], ...]   # groups of genes with the same shape and domains

    @classmethod
    def of(cls, t: Template) -> "Codec":
        names: dict[str, int] = {}
        for s in t.slots:
            for x in s.functions + s.terminals:
                names.setdefault(x, len(names))
            for i in range(s.head_len + s.tail_len):
                for x in s.domain(i):
                    names.setdefault(x, len(names))
        ar = arity_fn(t.space)
        arity = np.array([ar(x) for x in names], dtype=np.int64)
        lengths = np.array([s.head_len + s.tail_len for s in t.slots])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        doms = [tuple(names[x] for x in s.domain(i)) for s in t.slots for i in range(s.head_len + s.tail_len)]
        width = max(len(d) for d in doms)
        domain = np.array([d + (d[0],) * (width - len(d)) for d in doms])
        member = np.zeros((len(doms), len(names)), dtype=bool)
        for col, d in enumerate(doms):
            member[col, list(d)] = True
        groups: dict = {}
        for i, s in enumerate(t.slots):
            groups.setdefault((s.kind, s.head_len, s.tail_len, s.functions, s.terminals, s.domains), []).append(i)
        return cls(t, tuple(names), names, arity, starts, np.array([s.head_len for s in t.slots]), lengths,
                   np.repeat(np.arange(len(t.slots)), lengths), domain, np.array([len(d) for d in doms]),
                   member, tuple(tuple(g) for g in groups.values() if len(g) >= 2))

    @cached_property
    def width(self) -> int:
        """Columns in a row."""
        return int(self.lengths.sum())

    @cached_property
    def free_columns(self) -> np.ndarray:
        """Columns whose domain holds more than one symbol (the others never change)."""
        return np.flatnonzero(self.domain_size > 1)

    @cached_property
    def mutable_genes(self) -> np.ndarray:
        """Genes with at least one free column."""
        return np.unique(self.gene_of[self.free_columns])

    @cached_property
    def head_positions(self) -> np.ndarray:
        """(1, longest head): 0..h_max-1, for padded head frames."""
        return np.arange(int(self.heads.max()))[None, :]

    def encode(self, population: list[Symbols]) -> np.ndarray:
        flat = chain.from_iterable(chain.from_iterable(population))
        ids = np.fromiter(map(self.index.__getitem__, flat), dtype=np.int64, count=len(population) * self.width)
        return ids.reshape(len(population), self.width)

    def decode(self, rows: np.ndarray) -> list[Symbols]:
        bounds = self._bounds
        return [[row[a:b] for a, b in bounds] for row in self._names[rows].tolist()]

    @cached_property
    def _names(self) -> np.ndarray:
        return np.array(self.symbols, dtype=object)

    @cached_property
    def _bounds(self) -> list[tuple[int, int]]:
        return list(zip(self.starts.tolist(), (self.starts + self.lengths).tolist()))

    def in_domains(self, rows: np.ndarray) -> np.ndarray:
        """Per row: does every column hold a symbol of its domain?"""
        return self.member[np.arange(self.width), rows].all(axis=1)
