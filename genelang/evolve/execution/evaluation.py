"""What crosses the boundary between the search and its workers (processes,
Ray tasks): a typed request going out, a typed result coming back.

Both are plain dataclasses of picklable fields, so every backend ships them
as they are; nothing rides along in private dict keys."""
from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Status = Literal["ok", "failed", "infeasible"]


@dataclass(frozen=True)
class WeightBankRef:
    """NASGEP weight inheritance: the bank a candidate starts from and where it
    leaves its trained blocks (both inside the run directory)."""
    bank: str | None
    out: str


@dataclass(frozen=True)
class SupernetRef:
    """One-shot search: the trained supernet a candidate inherits its blocks from."""
    path: str                         # its checkpoint (RUN_DIR/supernet/checkpoint.pt)
    step: int                         # the training step the checkpoint holds
    # few-shot: one sub-supernet per symbol of the split position, in its domain's order
    parts: tuple["SupernetRef", ...] = ()


@dataclass(frozen=True)
class EvalContext:
    """Where and how a candidate runs; set by the backend and the search, not the spec."""
    threads: int = 0                  # torch threads in the worker (0: leave torch's default)
    device: str = "cpu"
    inherit: WeightBankRef | None = None
    supernet: SupernetRef | None = None


@dataclass(frozen=True)
class EvalRequest:
    genome: str                       # the genome's text
    seed: int
    spec: Any = None                  # the search's `Spec` (None for injected fitness functions)
    context: EvalContext = EvalContext()

    def with_context(self, **changes) -> "EvalRequest":
        return replace(self, context=replace(self.context, **changes))


@dataclass
class EvalResult:
    status: Status
    fitness: float | None = None
    reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    worker: str | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.fitness is not None and not math.isnan(self.fitness)

    @classmethod
    def failed(cls, reason: str, **kw) -> "EvalResult":
        return cls("failed", None, reason[:500], **kw)

    @classmethod
    def coerce(cls, value: "EvalResult | dict") -> "EvalResult":
        """A result from a user's fitness function: an EvalResult, or a mapping with
        `fitness` (and optionally `status`, `reason`, `metrics`)."""
        if isinstance(value, EvalResult):
            return value
        if not isinstance(value, dict):
            return cls.failed(f"the fitness function returned {type(value).__name__}, not a result")
        known = {k: value[k] for k in ("status", "fitness", "reason", "metrics", "seconds", "worker",
                                       "traceback") if k in value}
        known.setdefault("status", "ok")
        return cls(**known)


def worker_name(device: str = "cpu") -> str:
    """host:pid, and on a GPU which one (the physical index where the worker's
    view is masked to one GPU, as pool workers and Ray tasks are)."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    if device == "cpu":
        return name
    return f"{name} gpu {os.environ.get('CUDA_VISIBLE_DEVICES') or device}"


@dataclass(frozen=True)
class RunState:
    """What an estimator's `prepare` hook reads of the search before a generation:
    the spec, the run directory, the context the workers get, and the strategy
    when it samples supernet paths (`strategies.SamplesPaths`), else None."""
    spec: Any
    run_dir: Any                       # pathlib.Path
    context: EvalContext
    sampler: Any = None
