"""The conv space's supernet hook (`Space.supernet`)."""
from __future__ import annotations

from genelang.compiler.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.supernet.net import Supernet
from genelang.runtime.supernet.shape import SupernetShape


def conv_supernet(template: Template, model: ModelConfig, *, num_classes: int, input_shape: tuple[int, ...],
                  share: str = "position") -> Supernet:
    return Supernet(SupernetShape.of(template, model, num_classes=num_classes, in_channels=input_shape[0],
                                     share=share))
