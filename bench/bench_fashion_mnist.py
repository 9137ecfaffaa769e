"""A hand-written NASGEP-style genome trained on the full Fashion-MNIST
(54k train / 6k validation / 10k test) on this machine: test accuracy and wall
time per epoch.

Run: .venv/bin/python bench/bench_fashion_mnist.py [--epochs 10] [--channels 16]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from genelang.compiler import load_file
from genelang.runtime.train import ModelConfig, TaskConfig, train_genome

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--cells", type=int, default=1)
    ap.add_argument("--genome", default=str(ROOT / "examples" / "genotypes" / "nasgep_demo.gene"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    genome = load_file(args.genome).genomes[0]
    r = train_genome(genome, TaskConfig("fashion-mnist", batch_size=128), ModelConfig(C=args.channels, N=args.cells),
                     epochs=args.epochs, lr=0.1, seed=0, test=True)
    print(f"{genome.name}: {r.params:,} parameters, C={args.channels}, N={args.cells}, {args.epochs} epoch(s)")
    for h in r.history:
        print(f"  epoch {h['epoch']}: val acc {h['val_acc']:.4f}")
    print(f"test accuracy {r.metrics['test_acc']:.4f}; {r.seconds / args.epochs:.0f} s per epoch (2 threads)")


if __name__ == "__main__":
    main()
