"""A finished or running search, read into Python: `load_run(DIR)`.

    run = genelang.load_run("runs/quick")
    run.evaluations.sort_values("fitness", ascending=False).head()
    run.best.genome
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from genelang.evolve import best as best_of
from genelang.evolve.spec import Spec
from genelang.evolve.store import Evaluation


@dataclass
class Run:
    run_dir: Path
    spec: Spec | None                 # None when the stored spec no longer validates (a plugin is gone)
    evaluations: Any                  # pandas DataFrame: one row per evaluation, metrics as columns
    populations: Any                  # pandas DataFrame: generation, slot, genome, phenotype, age
    best: Evaluation | None           # the fittest successful evaluation (evolve/best.py)
    pareto: list[Evaluation]


def load_run(run_dir: str | Path) -> Run:
    """Every evaluation (genome text, status, fitness, parameters, multiply-adds,
    all metrics) and every stored population of a run directory."""
    import pandas as pd

    from genelang.errors import GenelangError
    from genelang.evolve.spec import parse_spec
    from genelang.evolve.status import open_run
    run_dir = Path(run_dir)
    with open_run(run_dir) as store:
        rows, pops, text = store.evaluations(), store.populations(), store.get_meta("spec")
    try:
        spec = parse_spec(yaml.safe_load(text) or {}, str(run_dir / "spec.yaml")) if text else None
    except GenelangError:
        spec = None
    records = []
    for e in rows:
        d = asdict(e)
        metrics = d.pop("metrics")
        d.setdefault("params", None)
        records.append({**d, **{k: v for k, v in metrics.items() if k not in d}, "params": metrics.get("params"),
                        "macs": metrics.get("macs")})
    evaluations = pd.DataFrame.from_records(records, columns=None if records else
                                            ["id", "generation", "candidate", "phenotype", "genome", "status",
                                             "reason", "fitness", "objectives", "seconds", "worker", "created",
                                             "params", "macs"])
    populations = pd.DataFrame(pops, columns=["generation", "slot", "genome", "phenotype", "age"])
    return Run(run_dir, spec, evaluations, populations, best_of.best(rows), best_of.pareto(rows))
