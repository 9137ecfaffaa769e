"""Predicted against measured latency for random networks of each chain space.

For each space, batch, thread count and clock: the latency table is built
(every entry timed inside covering networks), then for N seeded random
networks the prediction (the sum of the genome's entries) is compared with
the network measured end to end: Spearman's rho and the median absolute
percentage error. Multiply-adds as the predictor for comparison: rho, and
the MAPE of `a × MACs` with `a` the median latency/MAC ratio over the same
networks (a one-parameter fit in MACs' favour). Each network is measured a
second time: rho and MAPE of that retest against the first measurement are
the ceiling any predictor can reach under this run's noise. `pred_over_true`:
the median ratio (the table's bias). `load`: the 1-minute load average at the
row's end.

    python bench/bench_latency.py --networks 200 --batches 1 --threads 1,2 --clock cpu,wall
"""
from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from statistics import median

from scipy.stats import spearmanr

from genelang.compiler.template import Template
from genelang.runtime.build import space_network
from genelang.runtime.chain.costs import chain_table
from genelang.runtime.config import ModelConfig
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.predict import Predictor
from genelang.runtime.latency.table import LatencyTable
from genelang.runtime.latency.device import device_key
from genelang.runtime.latency.predict import latency_model
from genelang.runtime.latency.timer import time_ms


def template(space: str) -> Template:
    return Template.from_spec(type("SpaceSpec", (), {"space": space})())


def mape(pred: list[float], true: list[float]) -> float:
    return 100 * median(abs(p - t) / t for p, t in zip(pred, true))


def one(space: str, cfg: LatencyConfig, model: ModelConfig, shape: tuple[int, ...], n: int, seed: int,
        table_repeats: int) -> dict:
    p = Predictor(cfg, latency_model(space, model, 10, shape), LatencyTable(cfg.table, device_key(cfg)))
    t0 = time.time()
    Predictor(cfg.model_copy(update={"repeats": table_repeats}), p.model, p.table).measure(p.model.all_entries())
    table_s = time.time() - t0
    t, rng = template(space), random.Random(seed)
    costs = chain_table(space, model.skeleton, model.C, 10, shape)
    pred, true, again, macs = [], [], [], []
    t0 = time.time()
    for _ in range(n):
        genome = t.genome(t.random(rng))
        pred.append(p.latency(genome))
        net = space_network(genome, model, num_classes=10, input_shape=shape)
        true.append(time_ms(net, shape, cfg))
        macs.append(costs.cost(genome).macs)
        again.append(time_ms(net, shape, cfg))   # the same network again: the noise ceiling of any predictor
    a = median(tt / m for tt, m in zip(true, macs))
    return {"space": space, "batch": cfg.batch, "table_repeats": table_repeats, "threads": cfg.threads, "clock": cfg.clock, "networks": n,
            "table_entries": len(p.model.all_entries()), "table_s": round(table_s, 1),
            "measure_s": round(time.time() - t0, 1), "median_ms": round(median(true), 2),
            "rho": round(spearmanr(pred, true)[0], 3), "mape": round(mape(pred, true), 1),
            "pred_over_true": round(median(pp / tt for pp, tt in zip(pred, true)), 3),
            "rho_retest": round(spearmanr(again, true)[0], 3), "mape_retest": round(mape(again, true), 1),
            "load": os.getloadavg()[0],
            "rho_macs": round(spearmanr(macs, true)[0], 3), "mape_macs": round(mape([a * m for m in macs], true), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spaces", default="proxyless,fbnet,spos")
    ap.add_argument("--networks", type=int, default=200)
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--clock", default="cpu,wall")
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--skeleton", default="cifar")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--table-repeats", type=int, default=31, help="repeats per entry while building the table")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    model, shape = ModelConfig(C=args.C, skeleton=args.skeleton), (3, 32, 32)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for clock in args.clock.split(","):
            for batch in map(int, args.batches.split(",")):
                for threads in map(int, args.threads.split(",")):
                    cfg = LatencyConfig(table=f"{d}/latency.json", threads=threads, batch=batch, clock=clock,
                                        warmup=3, repeats=args.repeats)
                    for space in args.spaces.split(","):
                        row = one(space, cfg, model, shape, args.networks, args.seed, args.table_repeats)
                        rows.append(row)
                        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
