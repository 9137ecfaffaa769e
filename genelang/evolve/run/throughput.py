"""What a search's hardware does: candidates evaluated per hour of the
search's wall-clock time (every session of a resumed run counted), and the
GFLOP/s one worker achieved while training (multiply-adds from the space's
cost model: a training image costs about 3× its forward pass — forward, and
backward through activations and weights — and 2 FLOPs per multiply-add)."""
from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass

META_KEY = "throughput"


@dataclass(frozen=True)
class Throughput:
    evaluated: int                    # candidates evaluated (not taken from the cache) by the search
    seconds: float                    # the search's wall-clock time, all sessions
    gflop_s: float | None = None      # median over trained candidates, per worker

    @property
    def per_hour(self) -> float | None:
        return 3600 * self.evaluated / self.seconds if self.seconds > 0 else None

    def plus(self, evaluated: int, seconds: float, gflop_s: float | None) -> "Throughput":
        return Throughput(self.evaluated + evaluated, self.seconds + seconds, gflop_s)

    def line(self) -> str:
        rate = f"{self.per_hour:,.0f} candidates/hour" if self.per_hour is not None else "no candidates yet"
        flops = f", {self.gflop_s:.1f} GFLOP/s per worker training" if self.gflop_s is not None else ""
        return f"throughput: {rate} ({self.evaluated} in {self.seconds:,.0f} s){flops}"

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str | None) -> "Throughput":
        return cls(**json.loads(text)) if text else cls(0, 0.0)


def training_gflop_s(macs: float, train_images: int, val_images: int, seconds: float) -> float | None:
    """Achieved GFLOP/s of a training of `seconds` over that many images."""
    if seconds <= 0 or macs <= 0:
        return None
    return 2 * macs * (3 * train_images + val_images) / seconds / 1e9


def median_gflop_s(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
