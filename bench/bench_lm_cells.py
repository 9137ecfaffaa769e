"""ENAS's PTB cell vs the LSTM vs the cell ENAS's search found here, on the
bundled Wikipedia language model at (as near as hidden sizes allow) the same
parameter count: validation perplexity, mean ± sd over seeds 0, 1, 2.

The budget is the LSTM's parameter count at --hidden; each other cell gets the
hidden size whose whole language model (tied embedding/output + cell) comes
closest to it. Every cell trains through `train_genome` (Adam lr 0.003,
gradients clipped at 0.25) for --epochs over --windows training windows of 35
tokens; validation perplexity is over the task's validation split.

Run: PYTHONPATH=. python bench/bench_lm_cells.py [--windows 3000] [--epochs 2] [--hidden 64]
"""
from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

import torch

from genelang.compiler import load_file
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.task_data import task_data
from genelang.runtime.train import train_genome

from param_budget import closest, n_params   # bench/param_budget.py

ROOT = Path(__file__).resolve().parents[1]
CELLS = {
    "lstm": ROOT / "examples" / "genotypes" / "lstm.gene",
    "enas_ptb": ROOT / "examples" / "genotypes" / "enas_ptb.gene",
    # the rnn controller study's best cell, h = layer_norm(x) (bench/RESULTS.md)
    "searched": ROOT / "bench" / "data" / "rnn_controller_study" / "found.gene",
}
SEEDS = (0, 1, 2)


def matched_hidden(genome, task: TaskConfig, target: int) -> int:
    """The hidden size whose whole language model's parameter count is closest to `target`."""
    return closest(lambda h: n_params(genome, task, ModelConfig(hidden=h)), target, 4, 512)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64, help="the LSTM's hidden size; it sets the budget")
    args = ap.parse_args()
    torch.set_num_threads(1)
    task = TaskConfig("lm", subset=args.windows, batch_size=32)
    data, s = task_data(task)
    genomes = {name: load_file(path).genomes[0] for name, path in CELLS.items()}
    budget = n_params(genomes["lstm"], task, ModelConfig(hidden=args.hidden))
    print(f"load {os.getloadavg()}; {args.windows} windows × 35 tokens, {args.epochs} epoch(s), "
          f"vocab {len(data.vocab)}, {len(s.val[0])} validation windows; budget {budget:,} params "
          f"(LSTM at hidden {args.hidden})", flush=True)
    rows = []
    for name, g in genomes.items():
        hidden = matched_hidden(g, task, budget)
        ppl, secs = [], []
        for seed in SEEDS:
            r = train_genome(g, task, ModelConfig(hidden=hidden), epochs=args.epochs, seed=seed)
            ppl.append(r.metrics["val_ppl"])
            secs.append(r.seconds)
            print(f"  {name} seed {seed}: val ppl {ppl[-1]:.1f} ({r.seconds:.0f} s, load {os.getloadavg()[0]:.1f})",
                  flush=True)
        m = ModelConfig(hidden=hidden)
        rows.append((name, hidden, n_params(g, task, m), n_params(g, task, m, True), ppl, sum(secs)))
    print(f"\n| cell | hidden | params | of which cell | val ppl (mean ± sd, seeds {','.join(map(str, SEEDS))}) "
          "| per seed | train s (3 seeds) |")
    print("|---|---|---|---|---|---|---|")
    for name, hidden, n, c, ppl, t in rows:
        print(f"| {name} | {hidden} | {n:,} | {c:,} | {statistics.mean(ppl):.1f} ± {statistics.stdev(ppl):.1f} | "
              f"{', '.join(f'{p:.1f}' for p in ppl)} | {t:.0f} |")
    print(f"load {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
