"""A network's predicted latency per top-level part (stem, each stage or cell,
head) for `compile --to summary`: read from this device's table, never timed
here (a summary stays instant); what the table lacks is said, not guessed."""
from __future__ import annotations

from dataclasses import dataclass

from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.predict import latency_model
from genelang.runtime.latency.table import open_table


@dataclass(frozen=True)
class PartLatency:
    table: str
    key: str
    ms: dict[str, float]   # summary row -> predicted ms, 'total' among them; {} while entries are missing
    entries: int           # the genome's distinct entries
    missing: int           # of them, not in the table

    def note(self) -> str:
        """One line saying where the numbers come from, or why there are none."""
        if not self.missing:
            return f"latency: predicted from {self.table} ({self.key}), the sum of its entries"
        what = ("no latency table for this device" if self.missing == self.entries
                else f"{self.missing} of {self.entries} latency entries missing")
        return (f"latency: {what} in {self.table} ({self.key}); `genelang latency SPEC` measures them "
                f"(with this model and input shape)")


def part_latency(cfg: LatencyConfig, genome, model, num_classes: int, input_shape: tuple[int, ...]) -> PartLatency:
    table = open_table(cfg)
    lm = latency_model(genome.space, model, num_classes, tuple(input_shape))
    names = list(dict.fromkeys(lm.entries(genome)))
    missing = [n for n in names if table.get(n) is None]
    ms = {} if missing else {row: sum(table.get(n) for n in ns) for row, ns in lm.parts(genome).items()}
    if not missing:
        ms["total"] = sum(table.get(n) for n in lm.entries(genome))
    return PartLatency(str(table.path), str(table.key), ms, len(names), len(missing))
