"""A strategy that runs its own search and ends in genomes.

Sampling strategies fit `Strategy`'s propose/merge generations; a
differentiable relaxation does not: it trains architecture weights for epochs
and only then has genomes to show. Such a strategy also subclasses
`SearchesItself`: the search loop calls `search(run)` instead of
`initial`/`propose`/`merge`, evaluates the genomes it returns with the spec's
estimator as generation 0 (so they are stored as text in results.sqlite, and
`best.gene`, `retrain_top` and every reader work as for any search), and
stops. A rerun after a kill calls `search` again: it must resume from what it
checkpointed under `run.run_dir`, and a finished one return at once."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SelfSearchRun:
    spec: Any                 # evolve.spec.Spec
    template: Any             # evolve.template.Template
    run_dir: Path
    progress: Any             # the search's Progress (its optional `supernet_step` shows training)


class SearchesItself(ABC):
    @abstractmethod
    def search(self, run: SelfSearchRun) -> list:
        """The genomes found, as `Member`s, the best first."""


def planned_generations(strategy: str | None, generations: int | None) -> int | None:
    """The generations a run of `strategy` stores: one for a strategy that searches
    itself, `strategy.generations` for the others (readers such as `status`)."""
    from genelang.evolve.strategies import strategies
    cls = strategies().get(strategy or "")
    return 1 if cls is not None and issubclass(cls, SearchesItself) else generations
