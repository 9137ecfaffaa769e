"""The supernet's training curve, kept beside its checkpoint
(RUN_DIR/supernet/curve.csv: step, loss, time) for whoever watches the
search (the run page).

An append-only log rather than a file rewritten atomically: a step adds one
line (rewriting the whole file per step would cost O(steps²)), a reader drops
a torn last line, and a resumed training logs again the steps after its last
checkpoint, so the last line of a step wins."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

CURVE = "curve.csv"


@dataclass(frozen=True)
class CurvePoint:
    step: int
    loss: float
    time: float         # seconds since the epoch when the step finished


def log_step(out_dir: Path, step: int, loss: float) -> None:
    Path(out_dir).mkdir(parents=True, exist_ok=True)     # the first checkpoint may come later
    with open(Path(out_dir) / CURVE, "a", encoding="utf-8") as f:
        f.write(f"{step},{loss!r},{time.time():.3f}\n")


def read_curve(out_dir: Path) -> list[CurvePoint]:
    path = Path(out_dir) / CURVE
    if not path.is_file():
        return []
    points: dict[int, CurvePoint] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            step, loss, when = line.split(",")
            points[int(step)] = CurvePoint(int(step), float(loss), float(when))
        except ValueError:     # a line the writer had not finished
            continue
    return [points[s] for s in sorted(points)]
