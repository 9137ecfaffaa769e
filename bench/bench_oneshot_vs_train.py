"""The one-shot question of issue 15: at equal wall time on this CPU, does a
one-shot search (`fitness.estimator: supernet`, supernet training included)
find a network as good as the `train`-estimator search?

`search`: both searches start together, one torch thread each (a core each on
this 2-core machine), over quick.yaml's space:
- train: quick.yaml (1 epoch on 4,000 images per candidate), population 16,
  generations enough never to finish;
- one-shot: the same space and seed, a supernet trained on the full training
  split (`--steps`, `--share`), then gep over it (population 50, `--generations`),
  then `fitness.retrain_top: 5` (each trained as the train estimator would).
When the one-shot search has finished (its wall time is the budget), the train
search is killed (SIGKILL: its store keeps every finished evaluation) and both
runs' best are written to OUT/genomes/: `train.gene` (the train search's best),
`oneshot.gene` (the one-shot's pick: the best of its top 5 after retraining)
and `oneshot_top1.gene` (the supernet's own best).

`compare` is then `genelang compare` on those files: 10 epochs on the full
Fashion-MNIST, 3 seeds, the search's model (C=8, one cell per stage).

Run: PYTHONPATH=. .venv/bin/python bench/bench_oneshot_vs_train.py search
     .venv/bin/genelang compare bench/data/oneshot_vs_train/genomes/*.gene --epochs 10 --seeds 3 \
         --channels 8 --cells 1 --lr 0.1 --workers 2 --threads 1 --out bench/data/oneshot_vs_train/compare
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from genelang.runtime.supernet.keys import SHARES

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "specs" / "quick.yaml"
OUT = ROOT / "bench" / "data" / "oneshot_vs_train"


def specs(args) -> dict[str, dict]:
    base = yaml.safe_load(SPEC.read_text())
    base["execution"] = {"backend": "local", "workers": 0, "threads": 1}
    train = json.loads(json.dumps(base))
    train["run"]["name"] = "train"
    train["strategy"].update(population=16, generations=10_000)
    oneshot = json.loads(json.dumps(base))
    oneshot["run"]["name"] = "oneshot"
    oneshot["task"].pop("subset")                 # the supernet trains on the whole training split
    oneshot["strategy"].update(population=50, generations=args.generations, elitism=2)
    oneshot["fitness"].update(estimator="supernet", retrain_top=args.retrain_top, epochs=1)
    oneshot["fitness"].pop("timeout")
    oneshot["supernet"] = {"sampling": "uniform", "share": args.share, "steps": args.steps,
                           "checkpoint_every": 500, "bn_batches": 2, "val_samples": 1000}
    return {"train": train, "oneshot": oneshot}


def launch(name: str, spec: dict) -> subprocess.Popen:
    path = OUT / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    log = open(OUT / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "genelang", "evolve", str(path), "--out", str(OUT / name),
                             "--fresh", "--json", "--threads", "1"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def write_genomes() -> dict:
    from genelang.evolve.run.runs import load_run
    out, genomes = {}, OUT / "genomes"
    genomes.mkdir(exist_ok=True)
    train, oneshot = load_run(OUT / "train"), load_run(OUT / "oneshot")
    ok = oneshot.evaluations[oneshot.evaluations.status == "ok"]
    retrained = ok[ok.retrained_fitness.notna()].sort_values("retrained_fitness", ascending=False)
    picks = {"train": (train.best.genome, train.best.fitness),
             "oneshot_top1": (oneshot.best.genome, oneshot.best.fitness),
             "oneshot": (retrained.genome.iloc[0], float(retrained.retrained_fitness.iloc[0]))}
    for label, (text, score) in picks.items():
        (genomes / f"{label}.gene").write_text(re.sub(r"genome \S+", f"genome {label}", text, count=1) + "\n")
        out[label] = score
    ev = train.evaluations
    out["train_evaluations"] = int((ev.status == "ok").sum())
    out["oneshot_evaluations"] = int((ok.retrained_fitness.isna()).sum())
    out["oneshot_retrained"] = retrained[["fitness", "retrained_fitness"]].to_dict("records")
    return out


def cmd_search(args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    procs = {name: launch(name, spec) for name, spec in specs(args).items()}
    t0 = time.time()
    rc = procs["oneshot"].wait()
    budget = time.time() - t0
    os.killpg(procs["train"].pid, signal.SIGKILL)
    procs["train"].wait()
    if rc != 0:
        raise SystemExit(f"the one-shot search failed (exit {rc}): see {OUT / 'oneshot.log'}")
    result = {"wall_seconds": round(budget), "steps": args.steps, "share": args.share,
              "generations": args.generations, **write_genomes()}
    (OUT / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def main() -> None:
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["search", "genomes"])
    ap.add_argument("--steps", type=int, default=18_000, help="supernet.steps of the one-shot search")
    ap.add_argument("--share", default="cell", choices=SHARES)
    ap.add_argument("--retrain-top", type=int, default=5)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--generations", type=int, default=40, help="of the one-shot search (population 50)")
    args = ap.parse_args()
    OUT = args.out
    if args.command == "search":
        cmd_search(args)
    else:
        print(json.dumps(write_genomes(), indent=1))


if __name__ == "__main__":
    main()
