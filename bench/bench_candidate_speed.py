"""Seconds per candidate of `make demo`'s search (quick.yaml: Fashion-MNIST,
4,000 training images, one epoch, C=8, batch 64, lr 0.1, one thread per
worker) on the default CPU path, against the previous genelang measured in
the same run.

"before" is the genelang of `--before` (a git revision, default the last
commit before the CPU speed work), extracted with `git archive` into a
temporary directory and imported from there; "after" is this tree with its
defaults; "after, --no-channels-last" is this tree in the default memory
layout (what is left of the gain without channels_last). Every variant
trains the same candidates — the demo genome and random genomes of
quick.yaml's space, one seed each — in a fresh worker process that loads the
data set first (untimed, as a search worker's cache does); the time of a
candidate is genome → network → `train_genome` (Trainer set-up, the epoch,
validation), wall and CPU. Variants run round-robin, so load from other
processes hits them alike.

Run: .venv/bin/python bench/bench_candidate_speed.py [--candidates 6] [--rounds 2] [--before REV]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "b2252f9"     # main just before the CPU speed work (issue 24)
SPEC = ROOT / "examples" / "specs" / "quick.yaml"


def worker(job: dict) -> None:
    """Train `job`'s genomes one after the other; print one JSON line each."""
    import time

    import torch

    from genelang.compiler import load_text
    from genelang.runtime.config import ModelConfig, TaskConfig
    from genelang.runtime.task_data import task_data
    from genelang.runtime.train import train_genome
    torch.set_num_threads(1)
    task = TaskConfig("fashion-mnist", subset=4000, batch_size=job["batch"])
    model = ModelConfig(C=8, N=1, **({"channels_last": False} if job["nchw"] else {}))
    task_data(task)
    for text, seed in job["genomes"]:
        w, c = time.perf_counter(), time.process_time()
        r = train_genome(load_text(text).genomes[0], task, model, epochs=1, lr=job["lr"], seed=seed)
        print(json.dumps({"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                          "acc": r.metrics["val_acc"]}), flush=True)


def genomes(n: int, seed: int) -> list[tuple[str, int]]:
    """The demo genome and n − 1 random genomes of quick.yaml's space, as text, with a seed each."""
    from genelang.compiler.printer import format_genome
    from genelang.compiler.template import Template
    from genelang.evolve.spec.schema import load_spec
    template = Template.from_spec(load_spec(SPEC).space)
    rng = random.Random(seed)
    texts = [(ROOT / "examples" / "genotypes" / "nasgep_demo.gene").read_text()]
    texts += [format_genome(template.genome(template.random(rng))) for _ in range(n - 1)]
    return [(t, i) for i, t in enumerate(texts)]


def extract(rev: str, into: Path) -> Path:
    """The tree of `rev` (its genelang package) under `into`."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "genelang"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    return into


def run(tree: Path, job: dict) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env, check=True,
                         capture_output=True, text=True, cwd=tree).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", default=BEFORE, help="git revision of the previous genelang")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    gs = genomes(args.candidates, args.seed)
    job = {"genomes": gs, "batch": args.batch, "lr": args.lr, "nchw": False}
    with tempfile.TemporaryDirectory() as tmp:
        before = extract(args.before, Path(tmp))
        variants = {f"before ({args.before})": (before, job),
                    "after, --no-channels-last": (ROOT, job | {"nchw": True}),
                    "after (default)": (ROOT, job)}
        results: dict[str, list[dict]] = {k: [] for k in variants}
        for r in range(args.rounds):
            for name, (tree, j) in variants.items():
                results[name] += run(tree, j)
                print(f"round {r + 1}: {name}: {statistics.mean(x['wall'] for x in results[name][-len(gs):]):.2f} s "
                      f"wall/candidate", flush=True)
    print(f"\n{len(gs)} candidates (nasgep_demo + {len(gs) - 1} random of quick.yaml's space) × {args.rounds} rounds, "
          f"Fashion-MNIST 4,000 images, 1 epoch, C=8, batch {args.batch}, lr {args.lr}, 1 thread; "
          f"load average {os.getloadavg()[0]:.2f}")
    ref = results[next(iter(variants))]
    print(f"{'variant':<28} {'s/cand wall':>11} {'cand/h':>7} {'× before':>8} {'s/cand CPU':>10} {'× before':>8} "
          f"{'mean acc':>8} {'max |Δacc|':>10}")
    for name, res in results.items():
        wall, cpu = statistics.mean(x["wall"] for x in res), statistics.mean(x["cpu"] for x in res)
        wall0, cpu0 = statistics.mean(x["wall"] for x in ref), statistics.mean(x["cpu"] for x in ref)
        dacc = max(abs(a["acc"] - b["acc"]) for a, b in zip(res, ref))
        print(f"{name:<28} {wall:>11.2f} {3600 / wall:>7.0f} {wall0 / wall:>8.2f} {cpu:>10.2f} {cpu0 / cpu:>8.2f} "
              f"{statistics.mean(x['acc'] for x in res):>8.4f} {dacc:>10.4f}")


if __name__ == "__main__":
    main()
