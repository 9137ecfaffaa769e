"""Does a short Fashion-MNIST training keep its accuracy in bf16 and in
channels_last? The NASGEP demo genome (C=8, N=1), 2 epochs on a 4,000-image
subset, through genelang's training API (Lightning, CPU), per seed: fp32,
bf16, channels_last, channels_last + bf16. Configurations are interleaved
within each seed so machine load hits all alike. Prints mean ± sd validation
accuracy and seconds per epoch (training + validation).

bf16 is applied the way Lightning's `bf16-mixed` precision plugin does it on
CPU: `torch.autocast("cpu", dtype=torch.bfloat16)` around each training and
validation step, backward and the optimizer step outside. A small callback
does it here (`Autocast`), so the script runs whether or not
`train_genome` has its own precision option yet.

Run: .venv/bin/python bench/bench_precision_accuracy.py [--seeds 3] [--epochs 2] [--subset 4000] [--threads 2]
     [--configs fp32 channels_last]   (times are relative to the first configuration)
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import pytorch_lightning as pl
import torch

from genelang.compiler import load_file
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.task_data import task_data
from genelang.runtime.train import train_genome

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"fp32": (False, False), "bf16": (True, False),
           "channels_last": (False, True), "channels_last+bf16": (True, True)}


class Autocast(pl.Callback):
    """bf16 autocast around each training and validation step (forward and loss)."""

    def __init__(self):
        self.ctx = None

    def _enter(self, *_):
        self.ctx = torch.autocast("cpu", dtype=torch.bfloat16)
        self.ctx.__enter__()

    def _exit(self, *_):
        if self.ctx is not None:
            self.ctx.__exit__(None, None, None)
            self.ctx = None

    on_train_batch_start = on_validation_batch_start = _enter
    on_before_backward = on_validation_batch_end = _exit
    on_train_batch_end = _exit   # in case a step returned without a backward


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--subset", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    genome = load_file(ROOT / "examples" / "genotypes" / "nasgep_demo.gene").genomes[0]
    task = TaskConfig("fashion-mnist", subset=args.subset, batch_size=64)
    task_data(task)   # load once, outside the timings
    configs = {c: CONFIGS[c] for c in args.configs}
    acc: dict[str, list[float]] = {c: [] for c in configs}
    sec: dict[str, list[float]] = {c: [] for c in configs}
    for seed in range(args.seeds):
        for name, (bf16, cl) in configs.items():
            r = train_genome(genome, task, ModelConfig(C=8, N=1, channels_last=cl), epochs=args.epochs, lr=0.1,
                             seed=seed, callbacks=[Autocast()] if bf16 else None)
            acc[name].append(r.metrics["val_acc"])
            sec[name].append(r.seconds / args.epochs)
            print(f"seed {seed} {name:<20} val acc {r.metrics['val_acc']:.4f}  {r.seconds / args.epochs:.1f} s/epoch",
                  flush=True)
    print(f"\nnasgep_demo, C=8, {args.epochs} epochs on {args.subset} Fashion-MNIST images, batch 64, lr 0.1, "
          f"{args.seeds} seeds, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'configuration':<20} {'val acc mean ± sd':>18} {'s/epoch (median)':>17} {'vs ' + args.configs[0]:>8}")
    t32 = statistics.median(sec[args.configs[0]])
    for name in configs:
        t = statistics.median(sec[name])
        print(f"{name:<20} {statistics.mean(acc[name]):>9.4f} ± {statistics.stdev(acc[name]):.4f} "
              f"{t:>17.1f} {t / t32:>8.2f}")


if __name__ == "__main__":
    main()
