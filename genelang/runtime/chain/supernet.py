"""A chain space's weight-sharing supernet: one block per (layer, choice); a
genome's path is the `ChainNet` of its blocks over the shared stem and head."""
from __future__ import annotations

from torch import nn

from genelang.compiler.chain_space import layer_blocks
from genelang.runtime.chain.family import family
from genelang.runtime.chain.network import ChainNet, assemble, make_classifier, make_head, make_layer, make_stem
from genelang.runtime.chain.plan import plan_of
from genelang.runtime.supernet import SearchShape


class ChainSupernet(nn.Module):
    def __init__(self, template, model, num_classes: int, input_shape: tuple[int, ...], share: str):
        super().__init__()
        self.shape = SearchShape(template, share)
        self.plan, fam = plan_of(template.space, model, input_shape), family(template.space)
        self.stem, self.head = make_stem(fam, self.plan), make_head(fam, self.plan)
        self.classifier = make_classifier(fam, self.plan, num_classes)
        self.blocks = nn.ModuleDict({f"{ly.position}_{sym}": make_layer(fam, ly, sym)
                                     for ly in self.plan.layers for sym in ly.choices})

    def path(self, genome) -> ChainNet:
        layers = [self.blocks[f"{i}_{s}"] for i, s in enumerate(layer_blocks(genome))]
        return assemble(self.plan, layers, self.stem, self.head, self.classifier)


def supernet(template, model, *, num_classes, input_shape, share="position"):
    return ChainSupernet(template, model, num_classes, tuple(input_shape), share)
