"""The ENAS recurrent cell against an nn.LSTM of the same hidden size on the
bundled Wikipedia language-modelling data, same budget, same run: validation
perplexity after a fixed number of epochs on a fixed number of BPTT windows.

Run: .venv/bin/python bench/bench_lm.py [--windows 3000] [--epochs 2] [--hidden 128]
"""
from __future__ import annotations

import argparse
import time
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


class LSTMLM(nn.Module):
    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)
        self.out.weight = self.embed.weight

    def forward(self, x, lengths=None):
        return self.out(self.rnn(self.embed(x))[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(2)
    task = TaskConfig("lm", subset=args.windows, batch_size=32)
    data, s = task_data(task)
    enas = load_file(ROOT / "examples" / "genotypes" / "enas_ptb.gene").genomes[0]
    r = train_genome(enas, task, ModelConfig(hidden=args.hidden), epochs=args.epochs, seed=0)
    quiet_lightning()
    pl.seed_everything(0, verbose=False)
    lstm = LSTMLM(len(data.vocab), args.hidden)
    module = SequenceTask(lstm, "lm", lr=3e-3)
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, gradient_clip_val=0.25,
                         num_sanity_val_steps=0)
    t = time.perf_counter()
    trainer.fit(module, loader(TensorBatches(*s.train), 32, True), loader(TensorBatches(*s.val), 256, False))
    t_lstm = time.perf_counter() - t
    ppl_lstm = float(trainer.callback_metrics["val_ppl"])
    n_lstm = sum(p.numel() for p in lstm.parameters())
    print(f"{args.windows} windows × 35 tokens, {args.epochs} epoch(s), hidden {args.hidden}, vocab {len(data.vocab)}")
    print(f"ENAS cell (genelang): val ppl {r.metrics['val_ppl']:8.1f}, {r.params:,} params, {r.seconds:.0f} s")
    print(f"nn.LSTM baseline   : val ppl {ppl_lstm:8.1f}, {n_lstm:,} params, {t_lstm:.0f} s")
    print(f"ratio ENAS / LSTM perplexity: {r.metrics['val_ppl'] / ppl_lstm:.2f}")


if __name__ == "__main__":
    main()
