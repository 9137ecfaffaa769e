"""GEP operators (Ferreira) on symbol lists. Each respects the template's
per-position domains (head: functions and terminals; tail: terminals), so
offspring are well-formed; `apply_operators` keeps a parent wherever an
offspring would still be invalid (a reduction cell that cannot reduce)."""
from __future__ import annotations

import bisect
import math
import random

from genelang.evolve.template import Symbols, Template


def _copy(syms: Symbols) -> Symbols:
    return [list(g) for g in syms]


def mutate(syms: Symbols, t: Template, rate: float, rng: random.Random) -> Symbols:
    """Point mutation: each symbol redrawn from its domain with probability `rate`.
    Positions are found by geometric skips, so the cost follows the number of
    mutations, not the genome's length."""
    out = _copy(syms)
    if rate <= 0:
        return out
    bounds = [0]
    for g in out:
        bounds.append(bounds[-1] + len(g))
    total = bounds[-1]
    log_keep = math.log1p(-rate) if rate < 1 else None
    pos = -1
    while True:
        pos += 1 if log_keep is None else 1 + int(math.log(1.0 - rng.random()) / log_keep)
        if pos >= total:
            return out
        gi = bisect.bisect_right(bounds, pos) - 1
        i = pos - bounds[gi]
        out[gi][i] = rng.choice(t.slots[gi].domain(i))


def mutate_one(syms: Symbols, t: Template, rng: random.Random) -> Symbols:
    """Exactly one symbol changed (regularized evolution's mutation)."""
    out = _copy(syms)
    gi = rng.randrange(len(out))
    slot = t.slots[gi]
    i = rng.randrange(len(out[gi]))
    choices = [s for s in slot.domain(i) if s != out[gi][i]] or list(slot.domain(i))
    out[gi][i] = rng.choice(choices)
    return out


def invert(syms: Symbols, t: Template, rng: random.Random) -> Symbols:
    """Reverse a random segment of one gene's head."""
    out = _copy(syms)
    gi = rng.randrange(len(out))
    h = t.slots[gi].head_len
    if h >= 2:
        a = rng.randrange(h - 1)
        b = rng.randrange(a + 1, h)
        out[gi][a:b + 1] = out[gi][a:b + 1][::-1]
    return out


def is_transpose(syms: Symbols, t: Template, rng: random.Random, max_len: int = 3) -> Symbols:
    """Insertion-sequence transposition: a short sequence copied into the head
    (not at the root); the head keeps its length, the tail is untouched."""
    out = _copy(syms)
    gi = rng.randrange(len(out))
    h = t.slots[gi].head_len
    if h < 2:
        return out
    g = out[gi]
    length = rng.randint(1, min(max_len, h - 1))
    start = rng.randrange(len(g) - length + 1)
    seq = g[start:start + length]
    target = rng.randint(1, h - 1)
    head = (g[:target] + seq + g[target:h])[:h]
    out[gi] = head + g[h:]
    return out


def ris_transpose(syms: Symbols, t: Template, rng: random.Random, max_len: int = 3) -> Symbols:
    """Root transposition: a head sequence starting with a function becomes the new root."""
    out = _copy(syms)
    gi = rng.randrange(len(out))
    slot = t.slots[gi]
    g, h = out[gi], slot.head_len
    starts = [i for i in range(h) if g[i] in slot.functions]
    if not starts:
        return out
    s = rng.choice(starts)
    seq = g[s:min(h, s + rng.randint(1, max_len))]
    out[gi] = (seq + g[:h])[:h] + g[h:]
    return out


def gene_transpose(syms: Symbols, t: Template, rng: random.Random) -> Symbols:
    """Swap two whole genes whose positions accept the same symbols (e.g. the cells)."""
    out = _copy(syms)
    groups: dict = {}
    for i, s in enumerate(t.slots):
        groups.setdefault((s.kind, s.head_len, s.tail_len, s.functions, s.terminals), []).append(i)
    swappable = [g for g in groups.values() if len(g) >= 2]
    if swappable:
        a, b = rng.sample(rng.choice(swappable), 2)
        out[a], out[b] = out[b], out[a]
    return out


def _flat(syms: Symbols) -> list[str]:
    return [s for g in syms for s in g]


def _unflat(flat: list[str], like: Symbols) -> Symbols:
    out, i = [], 0
    for g in like:
        out.append(flat[i:i + len(g)])
        i += len(g)
    return out


def one_point(a: Symbols, b: Symbols, rng: random.Random) -> tuple[Symbols, Symbols]:
    fa, fb = _flat(a), _flat(b)
    c = rng.randrange(1, len(fa))
    return _unflat(fa[:c] + fb[c:], a), _unflat(fb[:c] + fa[c:], b)


def two_point(a: Symbols, b: Symbols, rng: random.Random) -> tuple[Symbols, Symbols]:
    fa, fb = _flat(a), _flat(b)
    c1, c2 = sorted(rng.sample(range(1, len(fa) + 1), 2)) if len(fa) > 1 else (0, len(fa))
    return (_unflat(fa[:c1] + fb[c1:c2] + fa[c2:], a), _unflat(fb[:c1] + fa[c1:c2] + fb[c2:], b))


def gene_recombination(a: Symbols, b: Symbols, rng: random.Random) -> tuple[Symbols, Symbols]:
    i = rng.randrange(len(a))
    a2, b2 = _copy(a), _copy(b)
    a2[i], b2[i] = list(b[i]), list(a[i])
    return a2, b2


def apply_operators(pa: Symbols, pb: Symbols, t: Template, rates, rng: random.Random
                    ) -> tuple[Symbols, Symbols]:
    """NASGEP's order: mutation, IS, RIS, one-point, two-point (then the rest);
    each offspring that ends invalid is replaced by its parent's copy."""
    a, b = mutate(pa, t, rates.mutation, rng), mutate(pb, t, rates.mutation, rng)
    for op, rate in ((is_transpose, rates.is_transposition), (ris_transpose, rates.ris_transposition)):
        if rng.random() < rate:
            a = op(a, t, rng)
        if rng.random() < rate:
            b = op(b, t, rng)
    for op, rate in ((one_point, rates.one_point), (two_point, rates.two_point),
                     (gene_recombination, rates.gene_recombination)):
        if rng.random() < rate:
            a, b = op(a, b, rng)
    for op, rate in ((invert, rates.inversion), (gene_transpose, rates.gene_transposition)):
        if rng.random() < rate:
            a = op(a, t, rng)
        if rng.random() < rate:
            b = op(b, t, rng)
    return (a if t.is_valid(a) else _copy(pa)), (b if t.is_valid(b) else _copy(pb))
