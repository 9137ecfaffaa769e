"""`tabular`: NAS-Bench-201's table as the fitness of nb201 genomes.

A candidate's fitness is the validation accuracy of one of its cell's stored
training seeds, drawn by the candidate's seed (so by the run's seed), as the
benchmark's own API draws it; `val_acc_mean` (the mean over the stored seeds)
is what results are reported with, and `train_time` (the benchmark's 200-epoch
training time) lets a budget be counted in simulated seconds. Choose the data
set with `fitness.options.dataset`: cifar10 (NATS's cifar10-valid), cifar100
or imagenet16-120. Needs the `nb201` extra.
"""
from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from genelang.evolve.estimators import Candidate, register_estimator
from genelang.runtime.nb201_table import DATASETS, NB201Table

# the table is immutable data: one per worker process, loaded on first use
TABLE = NB201Table()


class TabularOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str = "cifar10"     # cifar10 (NATS's cifar10-valid) | cifar100 | imagenet16-120

    @field_validator("dataset")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in DATASETS:
            raise ValueError(f"unknown NAS-Bench-201 data set {v!r}; choose from: {', '.join(DATASETS)}")
        return v


def dataset_of(spec) -> str:
    return TabularOptions.model_validate(spec.fitness.options).dataset


def _check(spec) -> list[tuple[str, str, str]]:
    from genelang.runtime.nb201_table import table_dir
    from genelang.errors import DataError
    try:
        table_dir()
    except DataError as err:
        return [("fitness.estimator", err.diagnostics[0].message, err.diagnostics[0].hint)]
    return []


@register_estimator("tabular", spaces={"nb201"}, builds_model=False, checks=_check, options=TabularOptions)
def tabular(c: Candidate) -> float:
    """NAS-Bench-201's 200-epoch validation accuracy of one stored seed (%)."""
    from genelang.compiler.nb201 import key_of
    rec = TABLE.lookup(key_of(c.genome), dataset_of(c.spec))
    acc = rec.draw(np.random.default_rng(c.seed))
    c.metrics.update(params=rec.params, val_acc=acc, val_acc_mean=rec.mean, train_time=rec.train_time,
                     stored_seeds=len(rec.val_accs))
    return acc
