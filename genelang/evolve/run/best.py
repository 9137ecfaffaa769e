"""One definition of a run's best, used by the search's result, best.gene,
`status`, `load_run` and the CLI: the successful evaluation with the highest
fitness (the earliest on ties). Other objectives never decide it; they form
the Pareto set beside it (`pareto`)."""
from __future__ import annotations

from genelang.evolve.strategies.selection import non_dominated_fronts
from genelang.evolve.run.store import Evaluation


def ranked(evaluations: list[Evaluation]) -> list[Evaluation]:
    """Successful evaluations, best first, each phenotype once."""
    ok = sorted((e for e in evaluations if e.ok), key=lambda e: (-e.fitness, e.id))
    seen: set[str] = set()
    return [e for e in ok if not (e.phenotype in seen or seen.add(e.phenotype))]


def best(evaluations: list[Evaluation]) -> Evaluation | None:
    r = ranked(evaluations)
    return r[0] if r else None


def pareto(evaluations: list[Evaluation]) -> list[Evaluation]:
    """The non-dominated successful evaluations over all objectives, each phenotype once, fittest first."""
    ok = ranked(evaluations)
    if not ok:
        return []
    front = non_dominated_fronts([tuple(e.objectives or (e.fitness,)) for e in ok])[0]
    return [ok[i] for i in sorted(front, key=lambda i: (-ok[i].fitness, ok[i].id))]
