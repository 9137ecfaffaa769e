"""A chain space's cost model: every (layer, block) measured once on the
plan's input shapes, the stem, head and classifier once; a genome's
parameters and multiply-adds are the sums of its entries (no network built)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from genelang.compiler.chain_space import layer_blocks
from genelang.runtime.chain.family import family
from genelang.runtime.chain.network import make_classifier, make_head, make_layer, make_stem
from genelang.runtime.chain.plan import Plan, plan_of
from genelang.runtime.summary import measure


@dataclass(frozen=True)
class Cost:
    params: int
    macs: int


def _cost(part) -> Cost:
    return Cost(part.params, part.macs)


@dataclass(frozen=True)
class ChainTable:
    plan: Plan
    fixed: Cost                          # stem, head and classifier
    rows: tuple[dict[str, Cost], ...]    # per layer: block -> its cost

    def cost(self, genome) -> Cost:
        parts = [row[s] for row, s in zip(self.rows, layer_blocks(genome))] + [self.fixed]
        return Cost(sum(p.params for p in parts), sum(p.macs for p in parts))


@lru_cache(maxsize=16)
def chain_table(space: str, skeleton: str, C: int, num_classes: int, input_shape: tuple[int, ...]) -> ChainTable:
    from genelang.runtime.config import ModelConfig
    plan, fam = plan_of(space, ModelConfig(skeleton=skeleton, C=C), input_shape), family(space)
    stem, _ = measure(make_stem(fam, plan), torch.zeros(1, *input_shape))
    rows = []
    for ly in plan.layers:
        x = torch.zeros(1, ly.c_in, *ly.hw)
        rows.append({sym: _cost(measure(make_layer(fam, ly, sym), x)[0]) for sym in ly.choices})
    head, _ = measure(make_head(fam, plan), torch.zeros(1, plan.head_in, *plan.final_hw))
    cls, _ = measure(make_classifier(fam, plan, num_classes), torch.zeros(1, plan.head_out))
    fixed = Cost(stem.params + head.params + cls.params, stem.macs + head.macs + cls.macs)
    return ChainTable(plan, fixed, tuple(rows))


@dataclass(frozen=True)
class ChainCosts:
    """The cost model `Space.cost_model` returns: one table per space, made on first use."""
    skeleton: str
    C: int
    num_classes: int
    input_shape: tuple[int, ...]

    def cost(self, genome) -> Cost:
        return chain_table(genome.space, self.skeleton, self.C, self.num_classes, self.input_shape).cost(genome)


def cost_model(task, model, max_operands) -> ChainCosts:
    from genelang.runtime.task_data import task_data
    data, _ = task_data(task)
    return ChainCosts(model.skeleton, model.C, data.num_classes, tuple(data.train_x.shape[1:]))
