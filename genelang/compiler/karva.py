"""Karva expressions: symbols read breadth-first into a tree (Ferreira's GEP).

Pure functions over symbol sequences; `arity` maps a symbol to its arity (0 for
terminals). Nothing here knows about spaces or PyTorch.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Sequence

Arity = Callable[[str], int]


@dataclass(frozen=True)
class Node:
    symbol: str
    children: tuple["Node", ...] = ()
    index: int = field(default=-1, compare=False)   # position in the gene's symbols

    def __str__(self) -> str:
        return to_nested(self)

    def walk(self):
        """Nodes in breadth-first (Karva) order."""
        queue = deque([self])
        while queue:
            node = queue.popleft()
            yield node
            queue.extend(node.children)


class IncompleteORF(ValueError):
    """The symbols run out before the tree is complete."""


def orf_length(symbols: Sequence[str], arity: Arity) -> int:
    """Length of the open reading frame: how many leading symbols the tree uses."""
    need, used = 1, 0
    while need:
        if used >= len(symbols):
            raise IncompleteORF(f"needs {need} more symbol(s) after position {used}")
        need += arity(symbols[used]) - 1
        used += 1
    return used


def decode(symbols: Sequence[str], arity: Arity) -> Node:
    """The expression tree of a gene; symbols past the ORF are ignored (non-coding)."""
    n = orf_length(symbols, arity)
    # Children of node i are the next arity(i) unread symbols, level by level.
    nxt = 1
    spans = []
    for i in range(n):
        a = arity(symbols[i])
        spans.append((nxt, nxt + a))
        nxt += a
    nodes: list[Node | None] = [None] * n
    for i in reversed(range(n)):
        lo, hi = spans[i]
        nodes[i] = Node(symbols[i], tuple(nodes[lo:hi]), i)
    return nodes[0]


def encode(tree: Node, arity: Arity, max_arity: int, head_len: int | None = None,
           pad: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Karva head and tail for a tree.

    The head is as short as possible (up to the last function in breadth-first
    order) unless `head_len` asks for more; the tail has the GEP length
    h·(n−1)+1 and is padded with `pad` (default: the last terminal of the ORF).
    """
    orf = [node.symbol for node in tree.walk()]
    last_fn = max((i for i, s in enumerate(orf) if arity(s) > 0), default=-1)
    h = max(last_fn + 1, 1)
    if head_len is not None:
        if head_len < h:
            raise ValueError(f"tree needs a head of at least {h}, got {head_len}")
        h = head_len
    t = h * (max_arity - 1) + 1
    if pad is None:
        pad = next(s for s in reversed(orf) if arity(s) == 0)
    symbols = orf + [pad] * (h + t - len(orf))
    return tuple(symbols[:h]), tuple(symbols[h:])


def tail_length(head_len: int, max_arity: int) -> int:
    return head_len * (max_arity - 1) + 1


def to_nested(node: Node) -> str:
    if not node.children:
        return node.symbol
    return f"{node.symbol}({', '.join(to_nested(c) for c in node.children)})"
