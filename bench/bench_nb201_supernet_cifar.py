"""The nb201 supernet's ranking against NAS-Bench-201's ground truth on real CIFAR-10 (issue 23).

The supernet is the nb201 space's (`runtime/supernet/nb201.py`: one block per
(cell, edge, operation)), shrunk to what one CPU core trains in minutes: C=8,
N=1 (one cell per stage), 16×16 inputs (the CIFAR-10 JPEGs average-pooled
2×2). Training is `train_supernet` (SGD momentum 0.9, wd 3e-4, cosine, the
task's pad-crop + flip), at an equal budget of *paths* for every recipe:

- `uniform` (SPOS): one random cell per step, S steps;
- `distinct` (isomorphism-aware): 5 cells of 5 different computations per step, S/5 steps;
- `strict-fair` (FairNAS): 5 cells per step, each edge taking each operation once, S/5 steps;
- `fewshot` (Zhao et al. 2021): the uniform supernet at S/2 paths split on one
  edge into 5 sub-supernets (one per operation there), each fine-tuned with
  uniform sampling inside its split for S/10 steps (cosine from the lr the
  whole schedule had reached at S/2): S paths in all; a cell is scored by the
  sub-supernet of its operation on that edge.

At checkpoints along training (fractions of the budget, `--points`) every
one of the ≥ 1,000 table cells (drawn once, seeded) is scored: its path's
BatchNorm statistics recalibrated on a fixed training batch, then its
accuracy and cross-entropy on a fixed held-out batch (images of the training
folder the supernet never trains on). Ground truth: the table's CIFAR-10
validation accuracy after 200 epochs (NATS's cifar10-valid, mean over seeds).
Reported: Kendall τ, Spearman ρ, top-5 % precision per checkpoint (the curve),
checkpoint ensembles (mean rank and mean accuracy over the last k), and the
parameter count's (the table's `model_size`) on the same cells.

Every scored checkpoint is one line of --out (JSONL: run, step, paths, every
cell's accuracy and loss); training resumes from each run's checkpoint; so a
killed bench rerun continues where it stopped, and --report only reads --out.

Run: nice -n 10 .venv/bin/python bench/bench_nb201_supernet_cifar.py --root /work/data/cifar10 \
        --work /work/notes/nb201sn --out bench/data/nb201_supernet_cifar.jsonl
     (`--recipes` and `--points` pick what to run; two processes on different
     recipes need different --out files: concatenate them for --report)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from genelang.compiler.nb201 import genome_from_key
from genelang.compiler.template import Template
from genelang.runtime.config import TaskConfig
from genelang.runtime.supernet import SAMPLERS, SupernetTraining, recalibrate_bn, train_supernet
from genelang.runtime.supernet.fewshot import route
from genelang.runtime.supernet.nb201 import NB201Supernet
from genelang.runtime.supernet.train import load_checkpoint
from genelang.runtime.nb201_table import NB201Table
from genelang.runtime.tasks import register_task

TASK = "cifar10-16"
RECIPES = ("uniform", "fewshot", "distinct", "strict-fair")   # few-shot needs uniform's midpoint; cheapest first


@register_task(TASK, "image")
def cifar10_16(root: str | None = None, **_):
    """The CIFAR-10 JPEG folders (image-folder, 32×32) average-pooled to 16×16."""
    from genelang.runtime.augment import Augment
    from genelang.runtime.tasks.images import image_folder
    d = image_folder(root)
    pool = torch.nn.functional.avg_pool2d
    return dataclasses.replace(d, train_x=pool(d.train_x, 2), test_x=pool(d.test_x, 2), name=TASK,
                               augment=Augment(pad=2, flip=True))


def template() -> Template:
    class SpaceSpec:
        space = "nb201"
    return Template.from_spec(SpaceSpec())


def supernet(args, tmpl: Template) -> NB201Supernet:
    torch.manual_seed(args.seed)
    return NB201Supernet(tmpl, 10, 3, C=args.C, N=args.N)


class Scorer:
    """Every cell's path: BN recalibrated on one fixed training batch, then scored on fixed held-out images."""

    def __init__(self, task: TaskConfig, keys: list[str], bn_size: int, val_size: int, seed: int):
        from genelang.runtime.task_data import task_data
        _, s = task_data(task)
        order = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(seed + 1))
        self.bn = [s.train[0][order[:bn_size]]]
        self.x, self.y = s.val[0][:val_size], s.val[1][:val_size]
        self.genomes = [genome_from_key(k) for k in keys]
        self.n_train = len(s.train[0])

    @torch.inference_mode()
    def __call__(self, nets: list[NB201Supernet], which: list[int]) -> tuple[list[float], list[float]]:
        accs, losses = [], []
        for g, w in zip(self.genomes, which):
            path = recalibrate_bn(nets[w].path(g), self.bn)
            out = path(self.x)
            accs.append((out.argmax(1) == self.y).float().mean().item())
            losses.append(torch.nn.functional.cross_entropy(out, self.y).item())
        return accs, losses


def snapshot(run_dir: Path, step: int, net: NB201Supernet) -> Path:
    """The model at `step`, kept for ensembles and few-shot warm starts (the checkpoint moves on)."""
    path = run_dir / f"model-{step}.pt"
    if not path.exists():
        saved = load_checkpoint(run_dir / "checkpoint.pt")
        assert saved is not None and saved["step"] == step, (run_dir, step)
        tmp = path.with_suffix(".tmp")
        torch.save(saved["model"], tmp)
        os.replace(tmp, path)
    net.load_state_dict(torch.load(path, weights_only=True))
    return path


def record(args, row: dict) -> None:
    row["load"] = os.getloadavg()[0]
    with args.out.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(f"  {row['run']} step {row['step']} ({row['paths']} paths): "
          f"{summary(np.array(row['acc']), args.truth)}  [load {row['load']:.2f}]", flush=True)


def train_and_score(args, name: str, sampler: str, group: int, done: set, scorer: Scorer, tmpl: Template) -> None:
    steps = args.paths // group
    run_dir = args.work / name
    net = supernet(args, tmpl)
    cfg = SupernetTraining(steps=steps, lr=args.lr, batch_size=args.batch, checkpoint_every=args.checkpoint_every,
                           seed=args.seed)
    samp = SAMPLERS[sampler](net.shape)
    for frac in args.points:
        step = round(steps * frac)
        t = time.perf_counter()
        trained = train_supernet(net, samp, args.task, cfg, run_dir, until=step)
        train_s = time.perf_counter() - t
        snapshot(run_dir, step, net)
        if (name, step) in done:
            continue
        t = time.perf_counter()
        acc, loss = scorer([net], [0] * len(scorer.genomes))
        record(args, {"run": name, "step": step, "paths": step * group, "frac": frac, "train_s": train_s,
                      "epochs": step * args.batch / args.n_train,
                      "score_s": time.perf_counter() - t, "loss_last": trained.loss, "acc": acc, "loss": loss})


def fewshot(args, done: set, scorer: Scorer, tmpl: Template) -> None:
    """Split the uniform supernet at half the budget on `args.split` (a free position); fine-tune each part."""
    whole = supernet(args, tmpl)
    gi, pos = whole.shape.free[args.split]
    parts = whole.shape.splits(gi, pos)
    start = round(args.paths * 0.5)
    warm = args.work / "uniform" / f"model-{start}.pt"
    steps = args.paths // (2 * len(parts))
    # the whole schedule's lr at its midpoint, then a cosine of its own over the fine-tuning
    cfg = SupernetTraining(steps=steps, lr=args.lr * 0.5 * (1 + math.cos(math.pi * 0.5)), batch_size=args.batch,
                           checkpoint_every=args.checkpoint_every, seed=args.seed + 1)
    nets, t = [], time.perf_counter()
    for shape in parts:
        sym = shape.genes[gi].domains[pos][0]
        net = NB201Supernet(shape.template, 10, 3, C=args.C, N=args.N)
        out_dir = args.work / "fewshot" / sym
        if load_checkpoint(out_dir / "checkpoint.pt") is None:
            net.load_state_dict(torch.load(warm, weights_only=True))
        train_supernet(net, SAMPLERS["uniform"](net.shape), args.task, cfg, out_dir)
        nets.append(net)
    step = start + steps * len(parts)
    if ("fewshot", step) in done:
        return
    train_s = time.perf_counter() - t
    which = [route(whole.shape.genes, gi, pos, g) for g in scorer.genomes]
    t = time.perf_counter()
    acc, loss = scorer(nets, which)
    record(args, {"run": "fewshot", "step": step, "paths": step, "frac": 1.0, "train_s": train_s,
                  "epochs": step * args.batch / args.n_train,
                  "score_s": time.perf_counter() - t, "split": [gi, pos], "acc": acc, "loss": loss})


def precision_top(score: np.ndarray, truth: np.ndarray, frac: float = 0.05) -> float:
    k = max(1, round(len(truth) * frac))
    return len(set(np.argsort(-score)[:k]) & set(np.argsort(-truth)[:k])) / k


def summary(score: np.ndarray, truth: np.ndarray) -> str:
    return (f"τ {stats.kendalltau(score, truth).statistic:.3f}  ρ {stats.spearmanr(score, truth).statistic:.3f}  "
            f"top-5% {precision_top(score, truth):.2f}")


def metrics(score: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    return (stats.kendalltau(score, truth).statistic, stats.spearmanr(score, truth).statistic,
            precision_top(score, truth))


def within_parts(rows: list[dict], truth: np.ndarray, part: np.ndarray) -> list[str]:
    """Few-shot against the whole supernet where the split cannot matter: τ inside each
    part (cells of one operation on the split edge), and the parts' order by mean score."""
    final = {r["run"]: r for r in sorted(rows, key=lambda r: r["step"])}
    out = ["", "Within the few-shot parts (cells grouped by their operation on the split edge):", "",
           "| recipe | τ inside each part (none, skip, 1×1, 3×3, pool) | mean | parts' order: τ of mean acc vs mean truth |",
           "|---|---|---|---|"]
    for run in ("uniform", "fewshot"):
        if run not in final:
            continue
        acc = np.array(final[run]["acc"])
        taus = [stats.kendalltau(acc[part == i], truth[part == i]).statistic for i in range(5)]
        means = [(acc[part == i].mean(), truth[part == i].mean()) for i in range(5)]
        out.append(f"| {run} {final[run]['step']} | {', '.join(f'{t:.3f}' for t in taus)} | {np.mean(taus):.3f} | "
                   f"{stats.kendalltau(*zip(*means)).statistic:.2f} |")
    return out


def report(rows: list[dict], truth: np.ndarray, params: np.ndarray, k: int, part: np.ndarray) -> str:
    lines = ["| recipe | step | paths | epochs | acc (mean) | τ (acc) | ρ (acc) | top-5 % (acc) | τ (−loss) | "
             "train s | score s | load |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    by_run: dict[str, list[dict]] = {}
    for r in rows:
        by_run.setdefault(r["run"], []).append(r)
    for run, rs in by_run.items():
        for r in sorted(rs, key=lambda r: r["step"]):
            acc, loss = np.array(r["acc"]), np.array(r["loss"])
            t, rho, p = metrics(acc, truth)
            lines.append(f"| {run} | {r['step']} | {r['paths']} | {r.get('epochs', 0):.1f} | {acc.mean():.3f} | "
                         f"{t:.3f} | {rho:.3f} | {p:.2f} | {stats.kendalltau(-loss, truth).statistic:.3f} | "
                         f"{r['train_s']:.0f} | {r['score_s']:.0f} | {r['load']:.2f} |")
    lines += ["", f"Checkpoint ensembles (the last {k} scored checkpoints of a run):", "",
              "| recipe | steps | τ mean rank (acc) | τ mean acc | ρ mean acc | top-5 % mean acc | τ mean −loss |",
              "|---|---|---|---|---|---|---|"]
    for run, rs in by_run.items():
        last = sorted(rs, key=lambda r: r["step"])[-k:]
        if len(last) < 2:
            continue
        accs = np.array([r["acc"] for r in last])
        ranks = np.mean([stats.rankdata(a) for a in accs], axis=0)
        t, rho, p = metrics(accs.mean(0), truth)
        loss = -np.array([r["loss"] for r in last]).mean(0)
        lines.append(f"| {run} | {', '.join(str(r['step']) for r in last)} | "
                     f"{stats.kendalltau(ranks, truth).statistic:.3f} | {t:.3f} | {rho:.3f} | {p:.2f} | "
                     f"{stats.kendalltau(loss, truth).statistic:.3f} |")
    lines += within_parts(rows, truth, part)
    t, rho, p = metrics(params, truth)
    lines += ["", f"Parameter count (the table's model_size) on the same cells: τ {t:.3f}, ρ {rho:.3f}, "
              f"top-5 % {p:.2f}"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/work/data/cifar10", help="ROOT/train/<class>/*.jpg (image-folder)")
    ap.add_argument("--work", type=Path, default=Path("/work/notes/nb201sn"), help="checkpoints (outside the repo)")
    ap.add_argument("--out", type=Path, default=Path("bench/data/nb201_supernet_cifar.jsonl"))
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--C", type=int, default=8)
    ap.add_argument("--N", type=int, default=1)
    ap.add_argument("--paths", type=int, default=12000, help="paths trained per recipe (the budget)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--points", type=float, nargs="+", default=[0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    ap.add_argument("--bn-size", type=int, default=128)
    ap.add_argument("--val-size", type=int, default=256)
    ap.add_argument("--split", type=int, default=0, help="few-shot: the free position (0: edge 0→1)")
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    ap.add_argument("--ensemble", type=int, default=3)
    ap.add_argument("--report", action="store_true", help="only print the tables from --out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    table = NB201Table()
    means = table.means("cifar10")
    keys = random.Random(args.seed).sample(sorted(means), args.cells)
    args.truth = np.array([means[k] for k in keys])
    params = np.array([table.lookup(k, "cifar10").params for k in keys], dtype=float)
    genes = template().slots
    gi, pos = [(i, q) for i, g in enumerate(genes) for q in g.free][args.split]
    part = np.array([route(genes, gi, pos, genome_from_key(k)) for k in keys])     # each cell's few-shot part
    rows = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    if args.report:
        print(report(rows, args.truth, params, args.ensemble, part))
        return
    args.task = TaskConfig(TASK, root=args.root, batch_size=args.batch, val=5000)
    args.work.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["run"], r["step"]) for r in rows}
    print(f"torch {torch.__version__}, 1 thread; NB201Supernet C={args.C} N={args.N} on 16×16 CIFAR-10; "
          f"{args.cells} cells; {args.paths} paths per recipe; load {os.getloadavg()[0]:.2f}", flush=True)
    tmpl = template()
    scorer = Scorer(args.task, keys, args.bn_size, args.val_size, args.seed)
    args.n_train = scorer.n_train
    groups = {"uniform": 1, "distinct": 5, "strict-fair": 5}
    for recipe in args.recipes:
        if recipe == "fewshot":
            fewshot(args, done, scorer, tmpl)
        else:
            train_and_score(args, recipe, recipe, groups[recipe], done, scorer, tmpl)
    rows = [json.loads(line) for line in args.out.read_text().splitlines()]
    print(report(rows, args.truth, params, args.ensemble, part))


if __name__ == "__main__":
    main()
