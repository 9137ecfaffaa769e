"""Differentiable search over a chain space under a latency budget, at a CPU's
scale: GDAS on the ProxylessNAS space (Fashion-MNIST, the 28×28 preset,
width multiplier 0.25), with and without `hardware: {cost: latency}`, the
same seeds. For each derived genome: its latency as the table predicts it
(the sum of its entries), as measured end to end in the same run (batch 1,
one thread, median of repeats), its parameters, and the expected latency
under the final α. The target is fixed before any search: half of what
uniform α expects.

Run: .venv/bin/python bench/bench_chain_relax.py [--seeds 0 1] [--epochs 2] [--subset 1600]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from genelang.differentiable import HardGumbel, RelaxedSearch, Schedule, get_relaxation
from genelang.differentiable.data import bilevel_data
from genelang.differentiable.hardware import HardwareTarget, latency_prices
from genelang.runtime.build import space_network
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.predict import predictor
from genelang.runtime.latency.timer import time_ms

SPACE = "proxyless"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--subset", type=int, default=1600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--C", type=int, default=4)
    ap.add_argument("--table", default="/tmp/chain_relax_latency.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    task = TaskConfig("fashion-mnist", subset=args.subset, batch_size=args.batch)
    model = ModelConfig(skeleton="mnist", C=args.C)
    # CPU time, not wall: other users' load on this shared machine does not inflate it
    cfg = LatencyConfig(table=args.table, threads=1, batch=1, clock="cpu", warmup=3, repeats=11)
    relaxation, data = get_relaxation(SPACE, model), bilevel_data(task)
    t0 = time.perf_counter()
    grid = latency_prices(relaxation, predictor(cfg, SPACE, task, model), num_classes=data.num_classes,
                          input_shape=data.input_shape)
    uniform = float(grid.expected([torch.full((len(p.choices),), 1 / len(p.choices)) for p in relaxation.positions]))
    target = uniform / 2
    print(f"table ready in {time.perf_counter() - t0:.0f} s; uniform α expects {uniform:.2f} ms; target {target:.2f} ms"
          f"; fastest {grid.of([0] * len(grid.choices)):.2f} ms (all mb3e3)", flush=True)
    rows = []
    for seed in args.seeds:
        for name, hw in (("gdas", None), ("gdas-latency", HardwareTarget("latency", target, 1.0, "hinge"))):
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                found = RelaxedSearch(relaxation, HardGumbel(), Schedule(epochs=args.epochs, batch_size=args.batch,
                                                                         C=args.C, seed=seed),
                                      data, out, hardware=hw, latency=grid).run()
                wall = time.perf_counter() - t0
            genome, last = found.genomes[0], found.history[-1]
            net = space_network(genome, model, num_classes=data.num_classes, input_shape=data.input_shape)
            row = {"method": name, "seed": seed, "wall_s": round(wall, 1),
                   "expected_ms": round(last["expected_latency_ms"], 3),
                   "table_ms": round(last["derived_latency_ms"], 3),
                   "measured_ms": round(time_ms(net, data.input_shape, cfg), 3),
                   "params": last["derived_params"], "train_acc": round(last["train_acc"], 3),
                   "skip_share": last["skip_share"], "genome": last["derived"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
                      "load": os.getloadavg(), "uniform_ms": uniform, "target_ms": target}))


if __name__ == "__main__":
    main()
