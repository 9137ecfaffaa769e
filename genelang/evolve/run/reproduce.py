"""What a retraining of a stored candidate must match to give the fitness the
search stored (`genelang train RUN_DIR --candidate ID|best`), and what it
cannot match.

The seed, task, model, learning rate and precision come from the run. The
torch thread count changes the numbers too (float sums are reduced in another
order), and differs between a search's worker (`execution.threads`, or the
cores shared among the workers) and a shell's torch (every core): each
evaluation records the count it ran with (`threads` among its metrics), and
the retraining uses it. What still differs is said, never hidden."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genelang.evolve.run.store import Evaluation

THREADS = "threads"      # the metric an evaluation records its torch thread count under


@dataclass(frozen=True)
class Reproduction:
    threads: int                  # torch threads to train with (0: torch's own default)
    caveats: tuple[str, ...]      # why the numbers may still differ from the stored fitness


@dataclass
class Retraining:
    """What `genelang.retrain` returns."""
    result: Any                   # the runtime's TrainResult
    evaluation: Evaluation        # the stored evaluation it retrained
    seed: int
    threads: int                  # torch threads it trained with (0: torch's default)
    caveats: tuple[str, ...]      # empty when it trains exactly as the search did

    @property
    def reproduces(self) -> bool:
        return not self.caveats


def reproduction(spec, chosen: Evaluation, *, device: str = "cpu", threads: int | None = None,
                 epochs: int | None = None) -> Reproduction:
    """How to retrain `chosen` as the search trained it; `threads` and `epochs`
    are the caller's overrides (None: the search's)."""
    from genelang.evolve.execution.backends import worker_threads
    from genelang.evolve.estimators import get_estimator
    caveats = []
    stored = chosen.metrics.get(THREADS)
    searched = int(stored) if stored is not None else worker_threads(spec)
    if threads is not None and threads != searched:
        caveats.append(f"--threads {threads}: the search trained with {searched or 'torch default'} thread(s)")
    elif stored is None:
        caveats.append("the run did not record its torch thread count (a run before genelang recorded it); "
                       f"training with {searched or 'torch default'} thread(s)")
    estimator = get_estimator(spec.fitness.estimator)
    if not estimator.trains:
        caveats.append(f"the search scored it with the {spec.fitness.estimator!r} estimator, not by training "
                       "it: the retrained accuracy is another number")
    if spec.fitness.inherit_weights:
        caveats.append("the search started it from inherited weights (fitness.inherit_weights); "
                       "this retraining starts from scratch")
    if epochs is not None and epochs != spec.fitness.epochs:
        caveats.append(f"{epochs} epoch(s): the search trained {spec.fitness.epochs}")
    elif chosen.metrics.get("epochs", spec.fitness.epochs) != spec.fitness.epochs:
        caveats.append(f"the search trained it {chosen.metrics['epochs']:g} epochs (fitness.threshold); "
                       f"this retraining trains {spec.fitness.epochs}")
    on_gpu = " gpu " in (chosen.worker or "")
    if on_gpu != (device != "cpu"):
        caveats.append(f"the search evaluated it on {'a GPU' if on_gpu else 'the CPU'}; this retraining "
                       f"runs on {device}")
    return Reproduction(threads if threads is not None else searched, tuple(caveats))
