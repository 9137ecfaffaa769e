"""Zero-cost proxies against NAS-Bench-201's ground truth: Spearman ρ of
synflow, naswot and the parameter count with the table's CIFAR-10 accuracy
(mean over the stored seeds, 200 epochs) over random cells, each built as the
real NAS-Bench-201 network (10 classes) through genelang's own space.

naswot needs images: `--root` (CIFAR-10's python batches, or an image folder
with `--task image-folder`); `--gaussian` scores it on N(0, 1) noise instead,
reported as such. Literature (Abdelfattah et al. 2021; Mellor et al. 2021):
synflow ≈ 0.74, naswot ≈ 0.77-0.80, parameter count ≈ 0.7.

Run: .venv/bin/python bench/bench_nb201_proxies.py [--cells 1000] [--root DIR | --gaussian]
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from scipy import stats

from genelang.compiler.nb201 import genome_from_key
from genelang.runtime.nb201_network import NB201Network, count_params
from genelang.runtime.nb201_table import NB201Table
from genelang.runtime.proxies import naswot, synflow

LITERATURE = {"synflow": "≈ 0.74", "naswot": "≈ 0.77-0.80", "params": "≈ 0.7"}


def images(args) -> tuple[torch.Tensor | None, str]:
    if args.root:
        from genelang.runtime.config import TaskConfig
        from genelang.runtime.task_data import sample_batch
        x, _ = sample_batch(TaskConfig(args.task, root=args.root, batch_size=args.batch), seed=args.seed)
        return x, f"{len(x)} {args.task} training images"
    if args.gaussian:
        g = torch.Generator().manual_seed(args.seed)
        return torch.randn(args.batch, 3, 32, 32, generator=g), f"{args.batch} Gaussian-noise images (NOT CIFAR-10)"
    return None, ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", help="CIFAR-10 python batches (or an image folder with --task image-folder)")
    ap.add_argument("--task", default="cifar10", choices=["cifar10", "image-folder"])
    ap.add_argument("--gaussian", action="store_true", help="naswot on Gaussian noise when no --root")
    ap.add_argument("--batch", type=int, default=128, help="naswot minibatch (Mellor et al.: 128)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, help="write every cell's scores here (JSON lines)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    table = NB201Table()
    means = table.means("cifar10")
    keys = random.Random(args.seed).sample(sorted(means), args.cells)
    x, what = images(args)
    rows = []
    t0 = time.perf_counter()
    for i, key in enumerate(keys):
        torch.manual_seed(args.seed * 100_000 + i)
        net = NB201Network(genome_from_key(key))
        row = {"key": key, "acc": means[key], "params": count_params(net)}
        if x is not None:
            row["naswot"] = naswot(net, x)
        row["synflow"] = synflow(net, torch.zeros(1, 3, 32, 32), keep=False)   # last: it spends net
        rows.append(row)
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} cells, {time.perf_counter() - t0:.0f} s", flush=True)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} random NAS-Bench-201 cells (seed {args.seed}), CIFAR-10 mean accuracy; "
          f"{time.perf_counter() - t0:.0f} s, torch {torch.__version__}")
    for proxy in ("synflow", "naswot", "params"):
        if proxy not in rows[0]:
            continue
        rho = stats.spearmanr([r[proxy] for r in rows], [r["acc"] for r in rows]).statistic
        note = f"  ({what})" if proxy == "naswot" else ""
        print(f"Spearman ρ({proxy:>7}, accuracy) = {rho:+.3f}   literature {LITERATURE[proxy]}{note}")


if __name__ == "__main__":
    main()
