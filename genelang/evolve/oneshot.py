"""One-shot search (`fitness.estimator: supernet`): the search's Template as
the runtime's supernet shape."""
from __future__ import annotations

from genelang.evolve.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.supernet import GeneShape, SupernetShape


def supernet_shape(template: Template, model: ModelConfig, *, num_classes: int,
                   in_channels: int) -> SupernetShape:
    genes = tuple(GeneShape(s.kind, s.name, s.head_len, tuple(s.domain(p) for p in range(s.head_len + s.tail_len)))
                  for s in template.slots)
    return SupernetShape.of(template.space, genes, model, num_classes=num_classes, in_channels=in_channels)
