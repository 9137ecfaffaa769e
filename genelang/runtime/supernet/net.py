"""The supernet: every block of a genome space (`keys.blocks`), made once;
`path(genome)` is the genome's network over the shared blocks."""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from genelang.compiler.ast import Genome
from genelang.runtime.networks import CellNetwork, make_stem
from genelang.runtime.supernet import keys as K
from genelang.runtime.supernet.path import PathCell, PathPlan, path_plan
from genelang.runtime.supernet.shape import SupernetShape


class Supernet(nn.Module):
    def __init__(self, shape: SupernetShape, plan_cache: int = 4096):
        super().__init__()
        self.shape = shape
        self.stem = make_stem(shape.in_channels, shape.C_stem)
        self.blocks = nn.ModuleDict((K.module_name(k), m) for k, m in K.blocks(shape))
        self._plans: OrderedDict[Genome, PathPlan] = OrderedDict()
        self._plan_cache = plan_cache

    def block(self, key: str) -> nn.Module:
        name = K.module_name(key)
        if name not in self.blocks:
            raise KeyError(f"the supernet has no block {key!r}: the genome is not of its space")
        return self.blocks[name]

    def plan(self, genome: Genome) -> PathPlan:
        """The genome's path, decoded once (the most recent `plan_cache` kept)."""
        plan = self._plans.pop(genome, None) or path_plan(self.shape, genome)
        self._plans[genome] = plan
        while len(self._plans) > self._plan_cache:
            self._plans.popitem(last=False)
        return plan

    def path(self, genome: Genome) -> CellNetwork:
        """The genome's network: the supernet's own blocks (shared, not copied), named
        as in `build_network(genome)`; its parameters are the path's parameters."""
        plan = self.plan(genome)
        cells = [PathCell(c.plan, [None if k is None else self.block(k) for k in c.keys]) for c in plan.cells]
        head = nn.Identity() if plan.head is None else self.block(plan.head)
        return CellNetwork(self.stem, cells, head, self.block(plan.classifier))

    def forward(self, x, genome: Genome):
        return self.path(genome)(x)
