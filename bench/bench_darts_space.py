"""DARTS (first order) on its own cell space with Fashion-MNIST, scaled to a
CPU, then the found genomes and DARTS_V2 (examples/genotypes/darts_v2.gene)
retrained under identical settings with `genelang compare`'s library call.

Search: --subset training images cut into the weights' and α's halves,
resized to --image-size (16: the two reductions need even sizes; 28 on a
faster machine), the mixed network at --C channels and --N cells per stage
(layers 3N + 2), --epochs epochs, one search per --seeds. Retraining: every
found genome and DARTS_V2 on the real 28×28 images, --train-subset images,
--train-epochs epochs, DARTS's network at --train-C and --layers, seeds 0..2
(the compare store in --out reuses finished trainings, so a rerun resumes).

Run: .venv/bin/python bench/bench_darts_space.py [--seeds 0 1 2] [--epochs 2] [--subset 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from genelang.compiler import load_file
from genelang.differentiable import RelaxedSearch, Schedule, Softmax, get_relaxation
from genelang.differentiable.data import bilevel_data
from genelang.runtime.config import TaskConfig
from genelang.study.compare import Entry, compare

ROOT = Path(__file__).resolve().parents[1]


def halves(subset: int, size: int, batch: int):
    data = bilevel_data(TaskConfig("fashion-mnist", subset=subset, batch_size=batch))
    def resize(x):
        return x if size == x.shape[-1] else F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return replace(data, weights=(resize(data.weights[0]), data.weights[1]), arch=(resize(data.arch[0]), data.arch[1]))


def search(seed: int, data, args) -> dict:
    sched = Schedule(epochs=args.epochs, batch_size=args.batch, seed=seed, C=args.C, N=args.N)
    found = RelaxedSearch(get_relaxation("darts"), Softmax(), sched, data, Path(args.out) / f"search-{seed}").run()
    last = found.history[-1]
    return {"seed": seed, "genome": last["genome"], "skip_share": last["skip_share"],
            "param_free_share": last["param_free_share"], "seconds": round(found.seconds, 1),
            "peak_memory_mb": round(found.peak_memory_mb), "train_acc": round(last["train_acc"], 4),
            "skip_per_epoch": [r["skip_share"] for r in found.history], "genome_obj": found.genomes[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--subset", type=int, default=1000)
    ap.add_argument("--image-size", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--C", type=int, default=4)
    ap.add_argument("--N", type=int, default=1)
    ap.add_argument("--train-subset", type=int, default=2000)
    ap.add_argument("--train-epochs", type=int, default=2)
    ap.add_argument("--train-C", type=int, default=8)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--out", default="runs/bench_darts_space")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, load {os.getloadavg()}")
    data = halves(args.subset, args.image_size, args.batch)
    found = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        r = search(seed, data, args)
        found.append(r)
        print(json.dumps({k: v for k, v in r.items() if k not in ("genome", "genome_obj")}
                         | {"wall_s": round(time.perf_counter() - t0, 1)}), flush=True)
        print(r["genome"], flush=True)
    entries = [Entry(f"darts_seed{r['seed']}", "found", replace(r["genome_obj"], name=f"darts_seed{r['seed']}"))
               for r in found]
    entries.append(Entry("darts_v2", "darts_v2", load_file(ROOT / "examples/genotypes/darts_v2.gene").genomes[0]))
    t0 = time.perf_counter()
    res = compare(entries, task="fashion-mnist", seeds=3, epochs=args.train_epochs, subset=args.train_subset,
                  model={"skeleton": "darts", "C": args.train_C, "layers": args.layers}, lr=args.lr, threads=1,
                  out_dir=Path(args.out) / "compare")
    print(f"retraining: {res.trained} trained, {res.reused} reused, {time.perf_counter() - t0:.0f} s, "
          f"load {os.getloadavg()}")
    for label, values in res.values.items():
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        print(f"{label:12s} val_acc {statistics.mean(values):.4f} ± {sd:.4f} over seeds {values} "
              f"params {res.params[label]}")
    pooled = [v for e in entries[:-1] for v in res.values[e.label]]
    print(f"found (pooled) val_acc {statistics.mean(pooled):.4f} ± {statistics.stdev(pooled):.4f} "
          f"(n={len(pooled)})")
    for p in res.pairs:
        print(p)


if __name__ == "__main__":
    main()
