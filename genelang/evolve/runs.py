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


def retrain(run_dir: str | Path, candidate: int | str = "best", *, out_dir: str | Path | None = None,
            test: bool = False, quiet: bool = True, epochs: int | None = None):
    """Train a stored candidate again exactly as the search evaluated it: the
    run's task, model and learning rate, and the candidate's own seed (its
    evaluation id, or "best"). Returns the runtime's TrainResult; `epochs`
    overrides the search's budget. With weight inheritance, the search
    started from inherited blocks, so a retraining from scratch differs."""
    from genelang.compiler import load_text
    from genelang.errors import SpecError
    from genelang.evolve.search import candidate_seed
    from genelang.runtime.train import train_genome
    run = load_run(run_dir)
    if run.spec is None:
        raise SpecError.at("spec", "the run's stored spec no longer validates", str(Path(run_dir) / "spec.yaml"))
    chosen = run.best if candidate == "best" else _by_id(Path(run_dir), int(candidate))
    if chosen is None:
        raise SpecError.at("io", "the run has no successful candidate to retrain", str(run_dir))
    spec = run.spec
    task, model = spec.configs()
    genome = load_text(chosen.genome, f"{run_dir}#{chosen.id}").genomes[0]
    seed = candidate_seed(spec.run.seed, chosen.phenotype)
    from genelang.evolve.estimators.builtin import training_lr
    lr = training_lr(spec, genome)
    return train_genome(genome, task, model, epochs=epochs or spec.fitness.epochs, lr=lr, seed=seed,
                        out_dir=out_dir, test=test, quiet=quiet), chosen, seed


def _by_id(run_dir: Path, ident: int) -> Evaluation:
    from genelang.errors import SpecError
    from genelang.evolve.status import open_run
    with open_run(run_dir) as store:
        found = [e for e in store.evaluations() if e.id == ident]
    if not found:
        raise SpecError.at("io", f"no evaluation with id {ident} in this run", str(run_dir),
                           hint="`genelang status RUN_DIR --csv` lists the ids")
    return found[0]
