"""Parameters and multiply-adds of a conv genome's network as a sum, without
building it.

A table, built once per (model, input shape, classes, the ops a search may
use) and cached per process, prices every part the network's cost depends on,
each measured by building that one module and counting it the way
`runtime/summary.py` counts (so the sums agree with `genelang compile --to
summary`), at the spatial size where it runs:

- per cell position: each op at stride 1 and, in a reduction cell, stride 2
  (an op strides where it reads a cell input); each cat projection by its
  number of operands; preprocess0/1 by input channels, which the root cats of
  the cells before it decide;
- the stem; the head and classifier by the last cell's channels; the
  auxiliary head by its input channels (parameters only: it does not run in
  eval mode, so summary counts no multiply-adds for it).

`table.cost(genome)` walks each cell's DAG as lowering does
(`compiler.conv_plan`): every ADF node once per cell, no preprocessing for an
input the cell never reads.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.conv_plan import LINK_ADD, LINK_CAT, CellPlan, cell_plan
from genelang.compiler.conv_space import CELLS
from genelang.compiler.lower_conv import CellSpec, cat_projection, preprocess0, preprocess1
from genelang.compiler.opsets import CONV
from genelang.compiler.registry import ADF, MAIN, get_op, get_space
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.networks import AuxiliaryHeadCIFAR, cell_specs, layout, make_head, make_stem
from genelang.runtime.summary import measure


@dataclass(frozen=True)
class Cost:
    params: int = 0
    macs: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.params + other.params, self.macs + other.macs)

    def __mul__(self, n: int) -> "Cost":
        return Cost(self.params * n, self.macs * n)


def _sum(table: dict, counts: Counter, what: str) -> Cost:
    total = Cost()
    for key, n in counts.items():
        if key not in table:
            raise LookupError(f"the cost table prices no {what} {key!r}: the genome is not of the space "
                              "it was built for")
        total += table[key] * n
    return total


@dataclass(frozen=True)
class PositionCosts:
    """One cell position's prices."""
    ops: dict[tuple[str, int], Cost]      # (symbol, stride)
    projections: dict[int, Cost]          # a non-root cat's projection, by operands
    preprocess0: dict[int, Cost]          # by the channels of h2
    preprocess1: dict[int, Cost]          # by the channels of h1

    def price(self, plan: CellPlan, spec: CellSpec) -> Cost:
        total = _sum(self.ops, plan.ops, "op") + _sum(self.projections, plan.projections, "cat of")
        if "h2" in plan.reads:
            total += self.preprocess0[spec.C_prev_prev]
        if "h1" in plan.reads:
            total += self.preprocess1[spec.C_prev]
        return total


@dataclass(frozen=True)
class CostTable:
    plan: tuple[bool, ...]               # per cell position: a reduction cell?
    C_stem: int
    C: int
    stem: Cost
    cells: tuple[PositionCosts, ...]
    heads: dict[int, Cost]               # head and classifier, by the last cell's channels
    aux_index: int                       # -1: no auxiliary head
    aux: dict[int, Cost]                 # the auxiliary head, by its input channels

    def cost(self, genome: Genome) -> Cost:
        plans = {r: cell_plan(genome, cell, r) for r, cell in CELLS.items()}
        mults = {r: p.multiplier for r, p in plans.items()}
        specs = cell_specs(self.plan, self.C_stem, self.C, mults)
        total = self.stem
        for spec, position in zip(specs, self.cells):
            total += position.price(plans[spec.reduction], spec)
        chans = [mults[s.reduction] * s.C for s in specs]
        total += self.heads[chans[-1]]
        if self.aux_index >= 0:
            total += self.aux[chans[self.aux_index]]
        return total


class _Meter:
    """Measures modules, each (what, channels, stride, input size) once."""

    def __init__(self):
        self.seen: dict[tuple, Cost] = {}

    def __call__(self, key: tuple, build, *shapes: tuple[int, ...]) -> Cost:
        if key not in self.seen:
            part, _ = measure(build(), *(torch.zeros(1, *s) for s in shapes))
            self.seen[key] = Cost(part.params, part.macs)
        return self.seen[key]


def _halved(hw: tuple[int, int]) -> tuple[int, int]:
    """What a stride-2 'same' convolution gives, as every stride-2 op here does."""
    return ((hw[0] + 1) // 2, (hw[1] + 1) // 2)


def _position(meter: _Meter, spec: CellSpec, ops: tuple[str, ...], sizes: tuple[tuple[int, int], ...],
              widths: tuple[set[int], set[int]], operands: range) -> PositionCosts:
    """`sizes`: h2's, h1's and the output's spatial size; `widths`: the channels h2 and h1 may have."""
    C, (hw0, hw1, hw_out) = spec.C, sizes
    priced: dict[tuple[str, int], Cost] = {}
    for sym in ops:
        op = get_op(CONV, sym)
        for stride in ((1, 2) if spec.reduction else (1,)):
            hw = hw1 if stride == 2 else hw_out   # a reduction cell's stride-1 ops read reduced nodes
            priced[sym, stride] = meter(("op", sym, C, stride, hw), lambda: op.builder(C, stride, True),
                                        *[(C, *hw)] * op.arity)
    return PositionCosts(
        priced,
        {n: meter(("cat", n, C, hw_out), lambda: cat_projection(n, C), (n * C, *hw_out)) for n in operands},
        {c: meter(("pre0", c, C, spec.reduction_prev, hw0),
                  lambda: preprocess0(c, C, spec.reduction_prev), (c, *hw0)) for c in widths[0]},
        {c: meter(("pre1", c, C, hw1), lambda: preprocess1(c, C), (c, *hw1))
         for c in widths[1]})


@functools.lru_cache(maxsize=8)
def cost_table(model: ModelConfig, *, num_classes: int, input_shape: tuple[int, int, int],
               functions: tuple[str, ...], max_operands: int) -> CostTable:
    """The table for genomes whose genes use `functions` and read at most
    `max_operands` terminals each (the longest tail: it bounds a cat's operands)."""
    lay = layout(model.skeleton, N=model.N, layers=model.layers)
    C_stem, meter = lay.stem_multiplier * model.C, _Meter()
    stem, out = measure(make_stem(input_shape[0], C_stem), torch.zeros(1, *input_shape))
    ops = tuple(f for f in functions if f not in (LINK_ADD, LINK_CAT))
    mults = range(1, (max_operands if LINK_CAT in functions else 1) + 1)
    operands = range(2, mults[-1] + 1)
    base = cell_specs(lay.plan, C_stem, model.C, {False: 1, True: 1})
    outs: list[tuple[int, int]] = [tuple(out.shape[-2:])] * 2    # the stem's output is h2 and h1 of cell 0
    widths: list[set[int]] = [{C_stem}, {C_stem}]
    cells = []
    for spec in base:
        hw_out = _halved(outs[-1]) if spec.reduction else outs[-1]
        cells.append(_position(meter, spec, ops, (outs[-2], outs[-1], hw_out), (widths[-2], widths[-1]),
                               operands))
        outs.append(hw_out)
        widths.append({m * spec.C for m in mults})
    heads = {c: meter(("head", c), lambda: make_head(model.skeleton, c), (c, *outs[-1]))
             + meter(("classifier", c), lambda: nn.Linear(c, num_classes), (c,)) for c in widths[-1]}
    aux = {}
    if model.auxiliary:
        aux = {c: Cost(sum(p.numel() for p in AuxiliaryHeadCIFAR(c, num_classes).parameters()))
               for c in widths[2 + lay.aux_index]}
    return CostTable(lay.plan, C_stem, model.C, Cost(stem.params, stem.macs), tuple(cells), heads,
                     lay.aux_index if model.auxiliary else -1, aux)


def task_cost_table(task: TaskConfig, model: ModelConfig, max_operands: int) -> CostTable:
    """The table for networks of `model` on `task`'s images, pricing every op
    the conv space has now (the conv space's `cost_model`)."""
    from genelang.runtime.cache import data_cache
    data = data_cache.get(task.name, task.root, task.vectors, task.dataset, task.skip_bad_images)
    space = get_space(CONV)
    functions = tuple(sorted(set(space.functions(ADF)) | set(space.functions(MAIN))))
    return cost_table(model, num_classes=data.num_classes, input_shape=tuple(data.train_x.shape[1:]),
                      functions=functions, max_operands=max_operands)
