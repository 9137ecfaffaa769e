"""What a candidate's latency is the sum of: named table entries. A latency
model names a genome's entries and, for entries the table lacks, gives the
networks to time them in (`Context`): each named part is timed inside its
network's forward pass, where the caches hold what the other layers left."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from torch import nn


@dataclass(frozen=True)
class Context:
    net: nn.Module
    input_shape: tuple[int, ...]                    # without the batch
    parts: dict[nn.Module, str] = field(default_factory=dict)   # module -> entry name
    whole: str | None = None                        # the entry the whole forward pass is stored as


class LatencyModel(Protocol):
    """A space's latency model (`Space.latency_model` names the function making it)."""
    def entries(self, genome) -> list[str]: ...
    def all_entries(self) -> list[str]: ...         # what `genelang latency` measures ahead ([] end to end)
    # a genome's entries by the network's top-level part, named as `compile --to summary` names its rows
    # ({} where only the whole network is timed)
    def parts(self, genome) -> dict[str, list[str]]: ...
    def contexts(self, names: set[str], genome=None) -> list[Context]: ...


class EndToEnd:
    """Any space: the whole network, one entry per phenotype and model."""

    def __init__(self, model, num_classes: int, input_shape: tuple[int, ...]):
        self.model, self.num_classes, self.input_shape = model, num_classes, input_shape

    def entries(self, genome) -> list[str]:
        from genelang.compiler.dag import phenotype_hash
        m = self.model
        return [f"e2e|{genome.space}|{phenotype_hash(genome)}|{m.skeleton}|C{m.C}|N{m.N}|L{m.layers}"
                f"|{self.num_classes}|{'x'.join(map(str, self.input_shape))}"]

    def all_entries(self) -> list[str]:
        return []

    def parts(self, genome) -> dict[str, list[str]]:
        return {}

    def contexts(self, names: set[str], genome=None) -> list[Context]:
        from genelang.runtime.build import space_network
        if genome is None:
            raise LookupError("an end-to-end latency entry is measured with its genome")
        net = space_network(genome, self.model, num_classes=self.num_classes, input_shape=self.input_shape)
        return [Context(net, self.input_shape, whole=self.entries(genome)[0])]
