"""Lightning overhead: one epoch of the same network and data through
genelang's training API (Lightning) against a plain PyTorch loop doing the
same work (same batches, SGD + Nesterov, cosine schedule, gradient clipping,
channels_last, validation pass), measured in the same run.

Run: .venv/bin/python bench/bench_lightning_overhead.py [--subset N] [--repeat R]
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from genelang.compiler import load_file
from genelang.runtime.data import TensorBatches, loader
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.models import make_model
from genelang.runtime.task_data import task_data
from genelang.runtime.train import train_genome

ROOT = Path(__file__).resolve().parents[1]


def plain_epoch(genome, task, model_cfg, seed=0, lr=0.05):
    torch.manual_seed(seed)
    _, s = task_data(task)
    net = make_model(genome, task, model_cfg).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=3e-4)
    batches = loader(TensorBatches(*s.train), task.batch_size, shuffle=True, seed=seed)
    total = len(batches)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * min(k, total) / total)))
    t = time.perf_counter()
    net.train()
    for x, y in batches:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x.contiguous(memory_format=torch.channels_last)), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
    net.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader(TensorBatches(*s.val), 256, shuffle=False):
            correct += (net(x.contiguous(memory_format=torch.channels_last)).argmax(1) == y).sum().item()
    return time.perf_counter() - t, correct / len(s.val[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subset", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    genome = load_file(ROOT / "examples" / "genotypes" / "nasgep_demo.gene").genomes[0]
    task = TaskConfig("fashion-mnist", subset=args.subset, batch_size=64)
    model = ModelConfig(C=8, N=1, channels_last=True)   # both sides use channels_last
    task_data(task)   # load once, outside the timings
    plain, lit = [], []
    for r in range(args.repeat):   # interleaved, so drift in machine load hits both
        t, acc_p = plain_epoch(genome, task, model, seed=r)
        plain.append(t)
        res = train_genome(genome, task, model, epochs=1, seed=r)
        lit.append(res.seconds)
    p, l = statistics.median(plain), statistics.median(lit)
    print(f"epoch of {args.subset} Fashion-MNIST images, C=8 NASGEP network, batch 64, 2 threads")
    print(f"plain PyTorch loop : {p:6.2f} s (val acc {acc_p:.3f})")
    print(f"genelang/Lightning : {l:6.2f} s (val acc {res.metrics['val_acc']:.3f})")
    print(f"ratio Lightning / plain: {l / p:.3f}  (goal ≤ 1.10)")


if __name__ == "__main__":
    main()
