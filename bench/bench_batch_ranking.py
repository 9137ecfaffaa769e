"""Do larger batches (learning rate scaled linearly) keep the ranking of
`make demo`'s candidates while training them faster? The same candidates —
nasgep_demo and random genomes of quick.yaml's space — trained at quick.yaml's
fidelity (Fashion-MNIST, 4,000 images, one epoch, C=8, one thread, the
default CPU path) at batch 64 (lr 0.1, the demo's setting) and at larger
batches with lr × batch/64; Kendall τ of each ranking against batch 64's,
and CPU seconds per candidate. Batch sizes run round-robin per candidate.

Run: .venv/bin/python bench/bench_batch_ranking.py [--candidates 16] [--batches 64 128 256]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_candidate_speed import genomes  # noqa: E402

from genelang.compiler import load_text  # noqa: E402
from genelang.runtime.config import ModelConfig, TaskConfig  # noqa: E402
from genelang.runtime.task_data import task_data  # noqa: E402
from genelang.runtime.train import train_genome  # noqa: E402


def kendall_tau(a: list[float], b: list[float]) -> float:
    """τ-b: concordant minus discordant pairs over all pairs, ties in either left out of both."""
    conc = disc = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            s = (a[i] - a[j]) * (b[i] - b[j])
            conc, disc = conc + (s > 0), disc + (s < 0)
    return (conc - disc) / max(1, conc + disc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--lr", type=float, default=0.1, help="at batch 64")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = ModelConfig(C=8, N=1)
    acc = {b: [] for b in args.batches}
    cpu = {b: [] for b in args.batches}
    for text, seed in genomes(args.candidates, args.seed):
        genome = load_text(text).genomes[0]
        for b in args.batches:
            task = TaskConfig("fashion-mnist", subset=4000, batch_size=b)
            task_data(task)
            c = time.process_time()
            r = train_genome(genome, task, model, epochs=1, lr=args.lr * b / 64, seed=seed)
            cpu[b].append(time.process_time() - c)
            acc[b].append(r.metrics["val_acc"])
        print(f"candidate {seed}: " + ", ".join(f"b{b} {acc[b][-1]:.3f} ({cpu[b][-1]:.1f} s)" for b in args.batches),
              flush=True)
    base = args.batches[0]
    print(f"\n{args.candidates} candidates, Fashion-MNIST 4,000 images, 1 epoch, C=8, 1 thread, lr {args.lr}×batch/64; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'batch':>5} {'lr':>5} {'CPU s/cand':>10} {'× b' + str(base):>7} {'mean acc':>8} {'best acc':>8} "
          f"{'τ vs b' + str(base):>9}")
    for b in args.batches:
        print(f"{b:>5} {args.lr * b / 64:>5.2f} {statistics.mean(cpu[b]):>10.2f} "
              f"{statistics.mean(cpu[base]) / statistics.mean(cpu[b]):>7.2f} {statistics.mean(acc[b]):>8.4f} "
              f"{max(acc[b]):>8.4f} {kendall_tau(acc[b], acc[base]):>9.3f}")


if __name__ == "__main__":
    main()
