"""The supernet's blocks: one per key, the full finite set made up front
(docs/supernet.md). Keys are strings, so state-dict names are stable:

- `c{i}.{gene}.{pos}.{symbol}` — the operation `symbol` at Karva position
  `pos` of `gene` in cell i of the skeleton; `...s2` its stride-2 twin (reduction
  cells, where the operation reads a cell input);
- `c{i}.{gene}.{pos}.cat{k}` — the 1×1 projection after a projected cat of k leaves;
- with `share: gene` the position drops out (`c{i}.{gene}.{symbol}`: a gene's
  symbol has one block wherever it stands), with `share: cell` the gene too
  (`c{i}.{symbol}`: one block per symbol per cell);
- `c{i}.pre0.{C_in}`, `c{i}.pre1.{C_in}` — preprocessing of the cell's inputs,
  by input channels (they follow the previous cells' root-cat multipliers);
- `head.{C}`, `classifier.{C}` — by the last cell's output channels.

ModuleDict names cannot hold dots, so a key's dots become '/' there (`module_name`).
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Iterator

from torch import nn

from genelang.compiler.lower_conv import cat_projection, preprocess0, preprocess1
from genelang.compiler.opsets import CONV
from genelang.compiler.registry import get_op
from genelang.runtime.networks import make_head
from genelang.compiler.template import Slot
from genelang.runtime.supernet.shape import SupernetShape

SHARES = ("position", "gene", "cell")    # what an operation's block is shared across, finest first


def _site(cell: int, gene: str, pos: int, share: str) -> str:
    if share == "position":
        return f"c{cell}.{gene}.{pos}"
    return f"c{cell}.{gene}" if share == "gene" else f"c{cell}"


def op_key(cell: int, gene: str, pos: int, symbol: str, stride: int, share: str = "position") -> str:
    return f"{_site(cell, gene, pos, share)}.{symbol}" + (".s2" if stride == 2 else "")


def cat_key(cell: int, gene: str, pos: int, leaves: int, share: str = "position") -> str:
    return f"{_site(cell, gene, pos, share)}.cat{leaves}"


def pre_key(cell: int, which: int, C_in: int) -> str:
    return f"c{cell}.pre{which}.{C_in}"


def head_key(C_last: int) -> str:
    return f"head.{C_last}"


def classifier_key(C_last: int) -> str:
    return f"classifier.{C_last}"


def module_name(key: str) -> str:
    return key.replace(".", "/")


def cat_leaves_max(gene: Slot, pos: int) -> int:
    """At most one more leaf than the head positions from `pos` on that may hold a cat."""
    return 1 + sum("cat" in gene.domains[q] for q in range(pos, gene.head_len))


def multipliers(gene: Slot) -> list[int]:
    """The output multipliers a main program may have (its root cat's leaves, or 1)."""
    top = cat_leaves_max(gene, 0) if "cat" in gene.domains[0] else 1
    return list(range(1, top + 1))


def cell_channels(shape: SupernetShape) -> list[tuple[int, list[int]]]:
    """Per cell: (C of the cell, the output channels it may have)."""
    out, C = [], shape.C
    for reduction in shape.plan:
        C *= 2 if reduction else 1
        out.append((C, [m * C for m in multipliers(shape.cell_gene(reduction))]))
    return out


Maker = Callable[[], nn.Module]


def _gene_blocks(shape: SupernetShape, i: int, gene: Slot, C: int,
                 reduction: bool) -> Iterator[tuple[str, Maker]]:
    for pos, domain in enumerate(gene.domains[: gene.head_len]):
        for sym in domain:
            if shape.arity(sym) == 0 or sym == "add":
                continue
            if sym == "cat":
                if gene.kind != "adf" and pos == 0:   # a main program's root cat is not projected
                    continue
                for k in range(2, cat_leaves_max(gene, pos) + 1):
                    yield cat_key(i, gene.name, pos, k, shape.share), partial(cat_projection, k, C)
                continue
            for stride in (1, 2) if reduction else (1,):
                yield (op_key(i, gene.name, pos, sym, stride, shape.share),
                       partial(get_op(CONV, sym).builder, C, stride, True))


def blocks(shape: SupernetShape) -> Iterator[tuple[str, nn.Module]]:
    """Every block of the supernet, freshly initialised, in a fixed order (a shared
    key is made where it first occurs)."""
    seen: set[str] = set()
    for key, make in _makers(shape):
        if key not in seen:
            seen.add(key)
            yield key, make()


def _makers(shape: SupernetShape) -> Iterator[tuple[str, Maker]]:
    chans = cell_channels(shape)
    for i, reduction in enumerate(shape.plan):
        C = chans[i][0]
        prev_prev = [shape.C_stem] if i < 2 else chans[i - 2][1]
        prev = [shape.C_stem] if i < 1 else chans[i - 1][1]
        reduction_prev = i > 0 and shape.plan[i - 1]
        for c in prev_prev:
            yield pre_key(i, 0, c), partial(preprocess0, c, C, reduction_prev)
        for c in prev:
            yield pre_key(i, 1, c), partial(preprocess1, c, C)
        for gene in shape.cell_genes(reduction):
            yield from _gene_blocks(shape, i, gene, C, reduction)
    for c in chans[-1][1]:
        if shape.head:
            yield head_key(c), partial(make_head, shape.skeleton, c)
        yield classifier_key(c), partial(nn.Linear, c, shape.num_classes)
