"""Karva expressions: symbols read breadth-first into a tree (Ferreira's GEP).

Pure functions over symbol sequences; `arity` maps a symbol to its arity (0 for
terminals). Nothing here knows about spaces or PyTorch.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Sequence

Arity = Callable[[str], int]


class Node:
    """An expression-tree node. Immutable by convention; equality and hashing
    ignore `index` (the node's position in its gene's symbols). A slotted
    class rather than a frozen dataclass: decoding makes many of these."""

    __slots__ = ("symbol", "children", "index")

    def __init__(self, symbol: str, children: tuple["Node", ...] = (), index: int = -1):
        self.symbol = symbol
        self.children = children
        self.index = index

    def __eq__(self, other) -> bool:
        return (isinstance(other, Node) and self.symbol == other.symbol
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.symbol, self.children))

    def __repr__(self) -> str:
        return f"Node({self.symbol!r}, {self.children!r}, index={self.index})"

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
    # One pass: each symbol's children are the next arity(i) unread symbols.
    starts, need, nxt, n = [], 1, 1, 0
    while need:
        if n >= len(symbols):
            raise IncompleteORF(f"needs {need} more symbol(s) after position {n}")
        a = arity(symbols[n])
        starts.append(nxt)
        nxt += a
        need += a - 1
        n += 1
    starts.append(nxt)
    nodes: list = [None] * n
    for i in range(n - 1, -1, -1):
        nodes[i] = Node(symbols[i], tuple(nodes[starts[i]:starts[i + 1]]), i)
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
