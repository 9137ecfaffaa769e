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

from genelang.evolve.run import best as best_of
from genelang.evolve.spec.schema import Spec
from genelang.evolve.run.store import Evaluation


@dataclass
class Run:
    run_dir: Path
    spec: Spec | None                 # None when the stored spec no longer validates (a plugin is gone)
    evaluations: Any                  # pandas DataFrame: one row per evaluation, metrics as columns
    populations: Any                  # pandas DataFrame: generation, slot, genome, phenotype, age
    best: Evaluation | None           # the fittest successful evaluation (evolve/run/best.py)
    pareto: list[Evaluation]


def load_run(run_dir: str | Path) -> Run:
    """Every evaluation (genome text, status, fitness, parameters, multiply-adds,
    all metrics) and every stored population of a run directory."""
    import pandas as pd

    run_dir = Path(run_dir)
    spec, rows, pops = _read(run_dir, populations=True)
    records = []
    for e in rows:
        d = asdict(e)
        metrics = d.pop("metrics")
        records.append({**d, **{k: v for k, v in metrics.items() if k not in d}, "params": metrics.get("params"),
                        "macs": metrics.get("macs")})
    evaluations = pd.DataFrame.from_records(records, columns=None if records else
                                            ["id", "generation", "candidate", "phenotype", "genome", "status",
                                             "reason", "fitness", "objectives", "seconds", "worker", "created",
                                             "params", "macs"])
    populations = pd.DataFrame(pops, columns=["generation", "slot", "genome", "phenotype", "age"])
    return Run(run_dir, spec, evaluations, populations, best_of.best(rows), best_of.pareto(rows))


def _read(run_dir: Path, populations: bool = False):
    """(spec or None, evaluations, populations) of a run directory, in one read."""
    from genelang.errors import GenelangError
    from genelang.evolve.spec.schema import parse_spec
    from genelang.evolve.run.status import open_run
    with open_run(run_dir) as store:
        rows, text = store.evaluations(), store.get_meta("spec")
        pops = store.populations() if populations else []
    try:
        spec = parse_spec(yaml.safe_load(text) or {}, str(run_dir / "spec.yaml")) if text else None
    except GenelangError:
        spec = None
    return spec, rows, pops


def retrain(run_dir: str | Path, candidate: int | str = "best", *, out_dir: str | Path | None = None,
            test: bool = False, quiet: bool = True, epochs: int | None = None, device: str = "cpu",
            threads: int | None = None):
    """Train a stored candidate again exactly as the search evaluated it: the
    run's task, model and learning rate, the candidate's own seed (its
    evaluation id, or "best") and the torch thread count it ran with. Returns a
    `Retraining` (evolve/run/reproduce.py): the runtime's TrainResult, the stored
    Evaluation, the seed and threads used, and `caveats`, each a reason the
    numbers may differ from the stored fitness (empty: they should not).
    `epochs` overrides the search's budget, `threads` its thread count;
    `device` ("cpu", "cuda:N") is where it trains, in the search's precision."""
    from genelang.compiler import load_text
    from genelang.errors import SpecError
    from genelang.evolve.run.reproduce import Retraining, reproduction
    from genelang.evolve.search import candidate_seed
    from genelang.runtime import train as runtime
    from genelang.runtime.devices import torch_threads
    run_dir = Path(run_dir)
    spec, rows, _ = _read(run_dir)
    if spec is None:
        raise SpecError.at("spec", "the run's stored spec no longer validates", str(run_dir / "spec.yaml"))
    if candidate == "best":
        chosen = best_of.best(rows)
        if chosen is None:
            raise SpecError.at("io", "the run has no successful candidate to retrain", str(run_dir))
    else:
        chosen = next((e for e in rows if e.id == int(candidate)), None)
        if chosen is None:
            raise SpecError.at("io", f"no evaluation with id {candidate} in this run", str(run_dir),
                               hint="`genelang status RUN_DIR --csv` lists the ids")
    task, model = spec.configs()
    genome = load_text(chosen.genome, f"{run_dir}#{chosen.id}").genomes[0]
    seed = candidate_seed(spec.run.seed, chosen.phenotype)
    from genelang.evolve.estimators.builtin import training_lr
    lr = training_lr(spec, genome)
    plan = reproduction(spec, chosen, device=device, threads=threads, epochs=epochs)
    with torch_threads(plan.threads):
        result = runtime.train_genome(genome, task, model, epochs=epochs or spec.fitness.epochs, lr=lr, seed=seed,
                                      out_dir=out_dir, test=test, quiet=quiet, device=device,
                                      precision=spec.fitness.precision)
    return Retraining(result, chosen, seed, plan.threads, plan.caveats)
