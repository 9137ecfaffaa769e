"""The nb201 space's supernet hook (`Space.supernet`): NAS-Bench-201's
network with one block per (cell, edge, operation) — or, with `share: gene`
or `cell`, per (stage, edge, operation): the cells of a stage share them —
and the fixed parts (stem, residual reduction blocks, head, classifier) once.
A genome's path is `NB201Network` over those blocks, its modules named as in
the stand-alone network, so the two load each other's state dicts."""
from __future__ import annotations

from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.lower_nb201 import lower_nb201_cell
from genelang.compiler.nb201 import EDGES, NB201, OPS
from genelang.compiler.registry import get_op
from genelang.compiler.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.nb201_network import NB201Network, ResNetBasicBlock, cell_plan, make_head, make_stem
from genelang.runtime.supernet.shape import SearchShape


def _site(cell: int, stage: int, share: str) -> str:
    return f"c{cell}" if share == "position" else f"s{stage}"


class NB201Supernet(nn.Module):
    def __init__(self, template: Template, num_classes: int, in_channels: int, share: str = "position",
                 C: int = 16, N: int = 5):
        super().__init__()
        self.shape = SearchShape(template, share)
        self.plan = cell_plan(C, N)
        self.stem = make_stem(in_channels, C)
        self.fixed = nn.ModuleDict()
        self.blocks = nn.ModuleDict()
        stage = 0
        for i, (c, reduction) in enumerate(self.plan):
            if reduction:
                stage += 1
                self.fixed[str(i)] = ResNetBasicBlock(c, 2 * c)
                continue
            for src, dst in EDGES:
                for op in OPS:
                    key = f"{_site(i, stage, share)}_e{src}{dst}_{op}"
                    if key not in self.blocks:
                        self.blocks[key] = get_op(NB201, op).builder(c)
        self.head = make_head(4 * C)
        self.classifier = nn.Linear(4 * C, num_classes)

    def path(self, genome: Genome) -> NB201Network:
        cells, stage = [], 0
        for i, (c, reduction) in enumerate(self.plan):
            if reduction:
                stage += 1
                cells.append(self.fixed[str(i)])
                continue
            site = _site(i, stage, self.shape.share)
            cells.append(lower_nb201_cell(genome, c, lambda name, op, site=site: self.blocks[f"{site}_{name}"]))
        return NB201Network(None, parts=(self.stem, cells, self.head, self.classifier))

    def forward(self, x, genome: Genome):
        return self.path(genome)(x)


def nb201_supernet(template: Template, model: ModelConfig, *, num_classes: int, input_shape: tuple[int, ...],
                   share: str = "position") -> NB201Supernet:
    return NB201Supernet(template, num_classes, input_shape[0], share)
