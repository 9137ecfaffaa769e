"""The GRU genome against torch's nn.GRU of the same width, same data, same
budget, same run, on one-step-ahead forecasting of statsmodels' sunspots
(the `forecast` task); both beside the persistence forecast (next = last),
the baseline any forecaster must beat. Test MSE in standardised units.

Run: .venv/bin/python bench/bench_forecast.py [--epochs 30] [--hidden 16] [--seeds 3]
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import nn

from genelang.compiler import load_file
from genelang.runtime.data import TensorBatches, loader
from genelang.runtime.lightning import SequenceTask
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.task_data import task_data
from genelang.runtime.train import quiet_lightning, train_genome

ROOT = Path(__file__).resolve().parents[1]


class TorchGRU(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.rnn = nn.GRU(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, lengths=None):
        return self.out(self.rnn(x)[0][:, -1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--dataset", default="sunspots")
    args = ap.parse_args()
    torch.set_num_threads(2)
    task = TaskConfig("forecast", dataset=args.dataset, batch_size=16)
    data, s = task_data(task)
    gru = load_file(ROOT / "examples" / "genotypes" / "gru.gene").genomes[0]
    x_test, _, y_test = data.test
    persistence = float(((x_test[:, -1] - y_test) ** 2).mean())
    ours, ref = [], []
    for seed in range(args.seeds):
        r = train_genome(gru, task, ModelConfig(hidden=args.hidden), epochs=args.epochs, lr=0.01, seed=seed,
                         test=True)
        ours.append(r.metrics["test_mse"])
        quiet_lightning()
        pl.seed_everything(seed, verbose=False)
        module = SequenceTask(TorchGRU(args.hidden), "forecast", lr=0.01)
        trainer = pl.Trainer(max_epochs=args.epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, gradient_clip_val=0.25,
                             num_sanity_val_steps=0)
        trainer.fit(module, loader(TensorBatches(*s.train), 16, True, seed), loader(TensorBatches(*s.val), 256, False))
        out = trainer.test(module, loader(TensorBatches(*data.test), 256, False), verbose=False)
        ref.append(float(out[0]["test_mse"]))
    m = lambda xs: f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs) if len(xs) > 1 else 0:.3f}"
    print(f"{data.name}: {len(s.train[0])} train windows of {x_test.shape[1]}, {args.epochs} epochs, "
          f"hidden {args.hidden}, {args.seeds} seeds; test MSE (standardised)")
    print(f"  genelang GRU genome  {m(ours)}")
    print(f"  torch nn.GRU         {m(ref)}")
    print(f"  persistence          {persistence:.3f}")
    print(f"ratio genome/nn.GRU: {statistics.mean(ours) / statistics.mean(ref):.2f}")


if __name__ == "__main__":
    main()
