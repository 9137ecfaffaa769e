"""A chain genome's network: stem, one module per stage, head, classifier."""
from __future__ import annotations

from itertools import groupby

from torch import nn

from genelang.compiler.chain_space import layer_blocks
from genelang.runtime.chain.family import Family, family
from genelang.runtime.chain.plan import LayerPlan, Plan, plan_of


class ChainNet(nn.Module):
    def __init__(self, stem: nn.Module, stages: list[nn.Module], head: nn.Module, classifier: nn.Linear):
        super().__init__()
        # one child per stage: `compile --to summary` prices each stage on its row
        self.stem, self.stages = stem, nn.ModuleList(stages)
        self.head = pooled_head(head, classifier)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x)


def pooled_head(head: nn.Module, classifier: nn.Linear) -> nn.Sequential:
    """The 1×1 conv, pooling and classifier as one module: the latency table
    times it as one entry, and a relaxed chain reads `[0]` and `[-1]` back."""
    return nn.Sequential(head, nn.AdaptiveAvgPool2d(1), nn.Flatten(), classifier)


def make_stem(fam: Family, plan: Plan) -> nn.Module:
    return fam.stem(plan.in_channels, plan.stem_out, plan.stem_stride, plan.mult)


def make_layer(fam: Family, layer: LayerPlan, symbol: str) -> nn.Module:
    return fam.block(symbol, layer.c_in, layer.c_out, layer.stride)


def make_head(fam: Family, plan: Plan) -> nn.Module:
    return fam.head(plan.head_in, plan.head_out)


def make_classifier(fam: Family, plan: Plan, num_classes: int) -> nn.Linear:
    return nn.Linear(plan.head_out, num_classes, bias=fam.classifier_bias)


def assemble(plan: Plan, layers: list[nn.Module], stem: nn.Module, head: nn.Module,
             classifier: nn.Linear) -> ChainNet:
    """The network of these modules, the layers grouped by stage."""
    stages = [nn.Sequential(*(m for _, m in group))
              for _, group in groupby(zip(plan.layers, layers), key=lambda pair: pair[0].stage)]
    return ChainNet(stem, stages, head, classifier)


def network(genome, model, *, num_classes: int, input_shape: tuple[int, ...]) -> ChainNet:
    plan, fam = plan_of(genome.space, model, input_shape), family(genome.space)
    layers = [make_layer(fam, ly, sym) for ly, sym in zip(plan.layers, layer_blocks(genome))]
    return assemble(plan, layers, make_stem(fam, plan), make_head(fam, plan), make_classifier(fam, plan, num_classes))
