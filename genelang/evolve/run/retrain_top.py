"""`fitness.retrain_top: K`: once a search is done, its K fittest candidates
are trained again from scratch exactly as the `train` estimator would (the
spec's task, model, epochs and learning rate, the candidate's own seed:
`runs.retrain`), and the result is stored beside the search's own score as
the evaluation's `retrained_fitness` (and `retrained_params`). A cheap
estimator's best (a supernet's, a proxy's) is thereby checked against what
it stands for. Already retrained candidates are kept when a run resumes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from genelang.evolve.run.best import ranked
from genelang.evolve.run.store import Evaluation


@dataclass(frozen=True)
class Retrained:
    id: int                   # the evaluation's id in the run
    fitness: float            # the search's score
    retrained_fitness: float | None


def retrain_top(run_dir: Path, spec, rows: list[Evaluation], store,
                progress: Callable[[int, int], None] | None = None) -> list[Retrained]:
    """Retrain the run's top `fitness.retrain_top` alone (`genelang train RUN_DIR
    --candidate ID`), storing each result beside its evaluation in `store`;
    `progress(done, total)` before each (a retraining is a whole training: minutes)."""
    from genelang.evolve.run.runs import retrain
    top = ranked(rows)[: spec.fitness.retrain_top]
    out = []
    for i, e in enumerate(top):
        if progress is not None:
            progress(i, len(top))
        if "retrained_fitness" not in e.metrics:
            result = retrain(run_dir, e.id).result
            e.metrics.update(retrained_fitness=result.metrics.get("score"), retrained_params=result.params)
            store.add_metrics(e.id, {k: e.metrics[k] for k in ("retrained_fitness", "retrained_params")})
        out.append(Retrained(e.id, e.fitness, e.metrics["retrained_fitness"]))
    if progress is not None:
        progress(len(top), len(top))
    return out
