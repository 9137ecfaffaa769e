"""GEP operators (Ferreira) over a population at once: rows of symbol ids
(`codec.Codec`), one numpy call per operator, each row drawing its own
positions. Every operator keeps each column inside its domain (head:
functions and terminals; tail: terminals), so offspring are well-formed;
`keep_valid` reverts a child to its parent where it would still fail the
checker (a reduction cell that cannot reduce).

Unary operators take `(X, codec, rng, where)` and change the rows `where`
selects; the recombinations take two aligned populations `A`, `B` (row i of
each are a pair of parents). Inputs are never modified.
"""
from __future__ import annotations

import numpy as np

from genelang.evolve.genome.codec import Codec

Rng = np.random.Generator


def _rows(where: np.ndarray | None, n: int) -> np.ndarray:
    return np.arange(n) if where is None else np.flatnonzero(where)


def mutate(X: np.ndarray, c: Codec, rate: float, rng: Rng) -> np.ndarray:
    """Point mutation: each symbol redrawn from its column's domain with probability `rate`."""
    if rate <= 0:
        return X.copy()
    u = rng.random(X.shape)
    hit = u < rate
    # given a hit, u / rate is uniform on [0, 1): it also picks the new symbol
    k = np.minimum((u / rate * c.domain_size).astype(np.int64), c.domain_size - 1)
    return np.where(hit, c.domain[np.arange(X.shape[1]), k], X)


def mutate_one(X: np.ndarray, c: Codec, rng: Rng) -> np.ndarray:
    """Exactly one symbol of each row changed (regularized evolution's mutation):
    a gene, then a position in it that can change, then another symbol of that
    position's domain."""
    out = X.copy()
    n = len(X)
    free = c.free_columns
    gene = rng.choice(c.mutable_genes, size=n)
    lo, hi = np.searchsorted(free, c.starts[gene]), np.searchsorted(free, c.starts[gene] + c.lengths[gene])
    col = free[lo + (rng.random(n) * (hi - lo)).astype(np.int64)]
    size = c.domain_size[col]
    current = np.argmax(c.domain[col] == X[np.arange(n), col][:, None], axis=1)
    step = 1 + (rng.random(n) * np.maximum(size - 1, 1)).astype(np.int64)
    out[np.arange(n), col] = c.domain[col, (current + step) % size]
    return out


class _Heads:
    """The chosen gene's head of each selected row, in one padded frame: row i
    has head length h[i] at column offset o[i]; positions j >= h[i] are padding."""

    def __init__(self, X: np.ndarray, c: Codec, rng: Rng, where: np.ndarray | None):
        rows = _rows(where, len(X))
        gene = rng.integers(len(c.starts), size=len(rows))
        keep = c.heads[gene] >= 2                 # nothing to rearrange in a head of one
        self.rows, gene = rows[keep], gene[keep]
        self.h, self.o, self.n = c.heads[gene], c.starts[gene], c.lengths[gene]
        self.j = c.head_positions
        self.valid = self.j < self.h[:, None]

    def symbols(self, X: np.ndarray) -> np.ndarray:
        cols = np.minimum(self.o[:, None] + self.j, X.shape[1] - 1)
        return X[self.rows[:, None], cols]

    def rewrite(self, X: np.ndarray, source: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        """A copy of X whose heads take position j from within-gene column source[i, j]."""
        out = X.copy()
        valid = self.valid if keep is None else self.valid & keep[:, None]
        r = self.rows[:, None].repeat(valid.shape[1], axis=1)[valid]
        out[r, (self.o[:, None] + self.j)[valid]] = X[r, (self.o[:, None] + source)[valid]]
        return out


def invert(X: np.ndarray, c: Codec, rng: Rng, where: np.ndarray | None = None) -> np.ndarray:
    """Reverse a random segment of one gene's head."""
    hd = _Heads(X, c, rng, where)
    a = rng.integers(0, hd.h - 1)
    b = rng.integers(a + 1, hd.h)
    inside = (hd.j >= a[:, None]) & (hd.j <= b[:, None])
    return hd.rewrite(X, np.where(inside, a[:, None] + b[:, None] - hd.j, hd.j))


def is_transpose(X: np.ndarray, c: Codec, rng: Rng, where: np.ndarray | None = None,
                 max_len: int = 3) -> np.ndarray:
    """Insertion-sequence transposition: a short sequence of the gene copied into
    its head after the root; the head keeps its length, the tail is untouched."""
    hd = _Heads(X, c, rng, where)
    length = rng.integers(1, np.minimum(max_len, hd.h - 1) + 1)
    start = rng.integers(0, hd.n - length + 1)
    target = rng.integers(1, hd.h)
    t, ln, s, j = target[:, None], length[:, None], start[:, None], hd.j
    return hd.rewrite(X, np.where(j < t, j, np.where(j < t + ln, s + j - t, j - ln)))


def ris_transpose(X: np.ndarray, c: Codec, rng: Rng, where: np.ndarray | None = None,
                  max_len: int = 3) -> np.ndarray:
    """Root transposition: a head sequence that starts with a function becomes the new root."""
    hd = _Heads(X, c, rng, where)
    is_fn = (c.arity[hd.symbols(X)] > 0) & hd.valid
    s = np.argmax(np.where(is_fn, rng.random(is_fn.shape), -1.0), axis=1)   # a random function
    length = np.minimum(rng.integers(1, max_len + 1, size=len(s)), hd.h - s)[:, None]
    return hd.rewrite(X, np.where(hd.j < length, s[:, None] + hd.j, hd.j - length), keep=is_fn.any(axis=1))


def gene_transpose(X: np.ndarray, c: Codec, rng: Rng, where: np.ndarray | None = None) -> np.ndarray:
    """Swap two whole genes whose positions accept the same symbols (e.g. the cells)."""
    out = X.copy()
    if not c.swappable:
        return out
    rows = _rows(where, len(X))
    group = rng.integers(len(c.swappable), size=len(rows))
    for k, genes in enumerate(c.swappable):
        R = rows[group == k]
        first = rng.integers(len(genes), size=len(R))
        second = (first + 1 + rng.integers(len(genes) - 1, size=len(R))) % len(genes)
        n = np.arange(int(c.lengths[genes[0]]))
        oa, ob = np.array(genes)[first], np.array(genes)[second]
        ca, cb = c.starts[oa][:, None] + n, c.starts[ob][:, None] + n
        out[R[:, None], ca], out[R[:, None], cb] = X[R[:, None], cb], X[R[:, None], ca]
    return out


def _swap(A: np.ndarray, B: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.where(mask, B, A), np.where(mask, A, B)


def one_point(A: np.ndarray, B: np.ndarray, rng: Rng, where: np.ndarray | None = None):
    """Everything after one random point exchanged between the two parents."""
    n, width = A.shape
    cut = rng.integers(1, width, size=n)
    mask = np.arange(width)[None, :] >= cut[:, None]
    if where is not None:
        mask &= where[:, None]
    return _swap(A, B, mask)


def two_point(A: np.ndarray, B: np.ndarray, rng: Rng, where: np.ndarray | None = None):
    """The segment between two distinct random points exchanged."""
    n, width = A.shape
    x = rng.integers(1, width + 1, size=n)
    y = rng.integers(1, width, size=n)
    y += y >= x
    lo, hi = np.minimum(x, y), np.maximum(x, y)
    j = np.arange(width)[None, :]
    mask = (j >= lo[:, None]) & (j < hi[:, None])
    if where is not None:
        mask &= where[:, None]
    return _swap(A, B, mask)


def gene_recombination(A: np.ndarray, B: np.ndarray, c: Codec, rng: Rng, where: np.ndarray | None = None):
    """One whole gene exchanged."""
    gene = rng.integers(len(c.starts), size=len(A))
    mask = c.gene_of[None, :] == gene[:, None]
    if where is not None:
        mask &= where[:, None]
    return _swap(A, B, mask)


def decode(X: np.ndarray, c: Codec) -> tuple[np.ndarray, np.ndarray]:
    """Every row's expression trees as arrays (Karva decoding, all genes at
    once): the ORF length of each gene, where the open slots 1 + Σ(arity − 1)
    first reach zero; and for each column the within-gene position of its
    node's first child, 1 + the arities of the nodes before it."""
    ar = c.arity[X]
    before = np.cumsum(ar, axis=1) - ar                       # arities left of each column, whole row
    local = before - before[:, c.starts][:, c.gene_of]        # ... within its gene
    first_child = 1 + local
    pos = np.arange(X.shape[1]) - c.starts[c.gene_of]        # column's position in its gene
    open_slots = first_child + ar - pos - 1                   # 1 + Σ(arity − 1) up to and including it
    done = np.where(open_slots == 0, pos + 1, np.iinfo(np.int64).max)
    return np.minimum.reduceat(done, c.starts, axis=1), first_child


def keep_valid(children: np.ndarray, parents: np.ndarray, c: Codec) -> np.ndarray:
    """Each child the checker rejects (operators keep domains, not every rule:
    a reduction cell must still reduce) replaced by its parent."""
    out = children.copy()
    for i, syms in enumerate(c.decode(children)):
        if not c.template.is_valid(syms):
            out[i] = parents[i]
    return out


def reproduce(A: np.ndarray, B: np.ndarray, c: Codec, rates, rng: Rng) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of parents to pairs of children in NASGEP's order: mutation, IS,
    RIS, one-point, two-point (then gene recombination, inversion, gene
    transposition), each operator applied to a row with its rate. The unary
    operators see both halves of the pairs as one population."""
    n = len(A)

    def unary(X: np.ndarray, steps) -> np.ndarray:
        for op, rate in steps:
            if rate > 0:
                X = op(X, c, rng, rng.random(len(X)) < rate)
        return X

    X = mutate(np.concatenate([A, B]), c, rates.mutation, rng)
    X = unary(X, ((is_transpose, rates.is_transposition), (ris_transpose, rates.ris_transposition)))
    A, B = X[:n], X[n:]
    for op, rate in ((one_point, rates.one_point), (two_point, rates.two_point)):
        if rate > 0:
            A, B = op(A, B, rng, rng.random(n) < rate)
    if rates.gene_recombination > 0:
        A, B = gene_recombination(A, B, c, rng, rng.random(n) < rates.gene_recombination)
    X = unary(np.concatenate([A, B]), ((invert, rates.inversion), (gene_transpose, rates.gene_transposition)))
    return X[:n], X[n:]
