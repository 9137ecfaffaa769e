"""Where a training step of a small candidate goes, per operation kind: the
previous CPU path (default layout, torch's BatchNorm, glibc returning freed
memory) against the default one (channels_last, runtime/batchnorm.py,
freed memory kept), torch.profiler on one thread, for nasgep_demo.gene at
C=8 (and any other `--C`) on 1×28×28 inputs (Fashion-MNIST's shape), at each batch size asked for.
The old path runs first, before the process keeps freed memory (a glibc
setting that cannot be undone).

Run: .venv/bin/python bench/profile_candidate.py [--batches 32 64 128] [--steps 3] [--rows 10] [--C 8 16]
"""
from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from genelang.compiler import load_file
from genelang.runtime import channels_last
from genelang.runtime.heap import keep_freed_memory
from genelang.runtime.networks import build_network

ROOT = Path(__file__).resolve().parents[1]
CL = torch.channels_last


def measure(batch: int, fast: bool, steps: int, rows: int, C: int = 8) -> None:
    torch.manual_seed(0)
    net = build_network(load_file(ROOT / "examples/genotypes/nasgep_demo.gene").genomes[0], "nasgep",
                        C=C, N=1, in_channels=1)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    if fast:
        channels_last.enter(net)
        x = x.contiguous(memory_format=CL)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=3e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()
    for _ in range(2):
        step()
    faults, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
    for _ in range(steps):
        step()
    cpu = (time.process_time() - cpu) / steps
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = sorted((e for e in prof.key_averages() if e.key.startswith(("aten::", "_"))),
                    key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    print(f"\n{'default path' if fast else 'previous path'}, C={C}, batch {batch}: {cpu * 1000:.0f} ms CPU/step, "
          f"{faults:.0f} page faults/step; load average {os.getloadavg()[0]:.2f}")
    for e in events[:rows]:
        # the profiler's times are wall time: under load only the shares mean something
        print(f"  {e.key:<40} {e.self_cpu_time_total / total:>6.1%} {e.count // steps:>4} calls/step")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rows", type=int, default=10)
    ap.add_argument("--C", type=int, nargs="+", default=[8], help="widths of nasgep_demo.gene (the issue asks 8 and 16)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for C in args.C:
        for b in args.batches:
            measure(b, False, args.steps, args.rows, C)
    keep_freed_memory()
    for C in args.C:
        for b in args.batches:
            measure(b, True, args.steps, args.rows, C)


if __name__ == "__main__":
    main()
