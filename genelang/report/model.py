"""What the run page shows, as plain typed data (`RunPage`), and its JSON:
the live page polls it, the static report embeds it."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

from genelang.evolve.run.store import Evaluated
from genelang.runtime.supernet_curve import CurvePoint


@dataclass(frozen=True)
class Progress:
    running_pid: int | None           # the process holding the run (None: not running)
    generations_done: int
    generations: int | None           # what the spec asks for
    evaluations: int
    ok: int
    failed: int
    infeasible: int
    started: float | None             # when the first evaluation finished (seconds since the epoch)
    last: float | None                # when the last one did
    seconds_per_evaluation: float | None   # mean time a worker spent on one
    per_minute: float | None          # evaluations finished per minute, first to last
    recent_per_minute: float | None   # the same over the last five minutes with any


@dataclass
class Row(Evaluated):
    """One evaluation, as the table lists it: the costs it sorts by instead of every metric."""
    params: float | None
    macs: float | None
    seconds: float | None
    created: float


@dataclass(frozen=True)
class GenerationPoint:
    generation: int
    evaluations: int                  # evaluated in this generation (reused phenotypes are not)
    best: float | None                # the fittest of them
    best_so_far: float | None         # the run's best up to and including this generation


@dataclass(frozen=True)
class FailureGroup:
    reason: str                       # the first line of the reason
    status: str                       # failed or infeasible
    ids: list[int]


@dataclass(frozen=True)
class CellDrawing:
    evaluation: int                   # the id of the evaluation drawn
    dot: str                          # Graphviz DOT (compiler/dot.py)
    svg: str | None                   # rendered by Graphviz's `dot`; None where it is absent
    note: str | None = None           # why there is no SVG


@dataclass
class RunPage:
    name: str
    run_dir: str
    strategy: str | None
    estimator: str | None
    objectives: list[str]
    progress: Progress
    generations: list[GenerationPoint]
    evaluations: list[Row]
    best: int | None                  # the id of the best evaluation (evolve/run/best.py)
    pareto: list[int]                 # ids of the Pareto set, fittest first
    best_cell: CellDrawing | None
    supernet_curve: list[CurvePoint] = field(default_factory=list)
    failures: list[FailureGroup] = field(default_factory=list)
    files: list[str] = field(default_factory=list)   # the run's outputs, relative to run_dir
    generated: float = 0.0            # when this was read
    # set: `evaluations` holds only those with a larger id (what a live page
    # polling every two seconds lacks); everything else is the whole run's
    after: int | None = None

    def to_json(self) -> str:
        # JSON has no infinities or NaN (a failed candidate's objectives are -inf): null
        return json.dumps(_finite(asdict(self)), separators=(",", ":"), allow_nan=False)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
