"""The supernet estimator against stand-alone training (issue 15: ranking and
throughput), over quick.yaml's space with the task on 10,000 Fashion-MNIST
images, as bench/supernet_truth.py trained its 50 random genomes.

`train`: one supernet (`--sampling uniform|strict-fair`) through the search's
own code path (evolve/estimators/oneshot.py: build_supernet, training, train_supernet),
cached in bench/data/supernet/ (a finished one is not trained again). Both
samplings get the same budget of *paths* (forward + backward passes of one
genome on one minibatch), so about the same compute: a strict-fair step trains
m paths, so it gets `paths / m` steps.

`ranking`: the truth's genomes scored through the real estimator
(fitness.evaluate on EvalRequests with a SupernetRef) on the whole validation
split the truth was scored on, with BN recalibration (`bn_batches`) and
without (`bn_batches: 0`, the trained running statistics); Kendall's tau and
Spearman's rho against the stand-alone val_acc.

`throughput`: candidates scored per minute by the estimator in this process
over a trained supernet, at the spec's default bn_batches / val_samples and
cheaper settings, with tau at each setting (the ranking they keep).

Run: PYTHONPATH=. .venv/bin/python bench/bench_supernet.py train --sampling uniform --paths 3000
     ... ranking --paths 3000      ... throughput --paths 3000 --candidates 100
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml
from scipy.stats import kendalltau, spearmanr

from genelang.evolve.execution.backends import Backend, PoolExecutor
from genelang.evolve.execution.evaluation import EvalContext, EvalRequest, SupernetRef
from genelang.evolve.execution.fitness import evaluate
from genelang.evolve.estimators.oneshot import build_supernet, training
from genelang.evolve.spec.schema import SupernetSpec, parse_spec
from genelang.runtime.supernet import SAMPLERS, load_checkpoint, train_supernet
from genelang.runtime.supernet.keys import SHARES

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "specs" / "quick.yaml"
TRUTH = ROOT / "bench" / "data" / "supernet_truth_50g_3e_10000.json"
CACHE = ROOT / "bench" / "data" / "supernet"
SUBSET = 10000
VAL = SUBSET // 4          # the validation images of a 10,000-image subset (runtime/data.split)
DEFAULT = SupernetSpec()


def bench_spec(sampling: str, paths: int, **supernet):
    """quick.yaml's search on the truth's task, scored by the supernet estimator."""
    d = yaml.safe_load(SPEC.read_text())
    d["task"]["subset"] = SUBSET
    d["fitness"]["estimator"] = "supernet"
    spec = parse_spec(d, str(SPEC))
    group = getattr(SAMPLERS[sampling](build_supernet(spec).shape), "m", 1)   # paths per step
    steps = paths // group
    d["supernet"] = {"sampling": sampling, "steps": max(steps, 1), "checkpoint_every": 100, **supernet}
    return parse_spec(d, str(SPEC))


def checkpoint(spec) -> Path:
    sn = spec.supernet
    shared = "" if sn.share == "position" else f"_{sn.share}"
    return CACHE / f"{sn.sampling}_{sn.steps}_lr{sn.lr}{shared}" / "checkpoint.pt"


def train(spec) -> SupernetRef:
    net = build_supernet(spec)
    sampler = SAMPLERS[spec.supernet.sampling](net.shape)
    t0, last = time.perf_counter(), [0.0]

    def progress(step, total, loss):
        if time.perf_counter() - last[0] > 30 or step == total:
            last[0] = time.perf_counter()
            print(f"  {spec.supernet.sampling} step {step}/{total} loss {loss:.3f} "
                  f"({last[0] - t0:.0f} s)", flush=True)

    done = train_supernet(net, sampler, spec.configs()[0], training(spec), checkpoint(spec).parent,
                          progress=progress)
    print(f"{spec.supernet.sampling}: {done.step} steps, {done.seconds:.0f} s in this call", flush=True)
    return SupernetRef(str(done.checkpoint), done.step)


def trained(spec) -> SupernetRef:
    saved = load_checkpoint(checkpoint(spec))
    if saved is None or saved["step"] != spec.supernet.steps:
        return train(spec)
    return SupernetRef(str(checkpoint(spec)), saved["step"])


def truth() -> list[dict]:
    return json.loads(TRUTH.read_text())


def scores(spec, ref: SupernetRef, genomes: list[str], threads: int,
           pool: Backend | None = None) -> tuple[list[float], float]:
    """Each genome's estimator score (in this process, or by `pool`'s workers),
    and the seconds all of them took."""
    requests = [EvalRequest(g, 0, spec, EvalContext(threads=threads, supernet=ref)) for g in genomes]
    t0 = time.perf_counter()
    if pool is None:
        results = [evaluate(r) for r in requests]
    else:
        results = pool.map(requests, lambda i, r: None)
    bad = [r.reason for r in results if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} candidates failed: {bad[0]}")
    return [r.fitness for r in results], time.perf_counter() - t0


def rank(truth_acc: list[float], acc: list[float]) -> str:
    return f"tau {kendalltau(truth_acc, acc)[0]:.3f}  rho {spearmanr(truth_acc, acc)[0]:.3f}"


def with_scoring(spec, bn_batches: int, val_samples: int, precision: str | None = None):
    return spec.model_copy(update={
        "supernet": spec.supernet.model_copy(update={"bn_batches": bn_batches, "val_samples": val_samples}),
        "fitness": spec.fitness.model_copy(update={"precision": precision})})


def run_supernet(run_dir: Path):
    """A search's own spec and trained supernet (RUN_DIR/supernet/checkpoint.pt)."""
    from genelang.evolve.run.runs import load_run
    spec = load_run(run_dir).spec
    saved = load_checkpoint(run_dir / "supernet" / "checkpoint.pt")
    return spec, SupernetRef(str(run_dir / "supernet" / "checkpoint.pt"), saved["step"])


def cmd_ranking(args) -> None:
    rows = truth()
    genomes, acc = [r["genome"] for r in rows], [r["val_acc"] for r in rows]
    print(f"{len(rows)} genomes; stand-alone val_acc {min(acc):.3f}..{max(acc):.3f}; scored on {VAL} val images")
    if args.run:     # a search's supernet, scored on its own task's validation split
        spec, ref = run_supernet(args.run)
        for bn in (args.bn_batches, 0):
            s, secs = scores(with_scoring(spec, bn, VAL), ref, genomes, args.threads)
            print(f"{args.run.name}: {spec.supernet.sampling} share {spec.supernet.share} steps {ref.step} "
                  f"bn_batches {bn}: {rank(acc, s)}  supernet acc {min(s):.3f}..{max(s):.3f}  ({secs:.0f} s)")
        return
    for sampling in args.samplings:
        spec = bench_spec(sampling, args.paths, lr=args.lr, share=args.share)
        ref = trained(spec)
        for bn in (args.bn_batches, 0):
            s, secs = scores(with_scoring(spec, bn, VAL), ref, genomes, args.threads)
            print(f"{sampling:11s} share {args.share:8s} steps {spec.supernet.steps:5d}  bn_batches {bn}:  "
                  f"{rank(acc, s)}  supernet acc {min(s):.3f}..{max(s):.3f}  ({secs:.0f} s)", flush=True)


def cmd_throughput(args) -> None:
    rows = truth()
    genomes, acc = [r["genome"] for r in rows], [r["val_acc"] for r in rows]
    spec = bench_spec(args.samplings[0], args.paths, lr=args.lr, share=args.share)
    ref = trained(spec)
    threads = args.threads if args.workers == 0 else max(1, args.threads // args.workers)
    pool = Backend(PoolExecutor(args.workers)) if args.workers else None
    print(f"{spec.supernet.sampling} supernet; {args.workers or 'no'} worker processes, {threads} threads each; "
          f"precision {args.precision or '32'}")
    try:
        for bn, val in args.settings:
            scoring = with_scoring(spec, bn, val, args.precision)
            scores(scoring, ref, genomes[:max(1, 2 * args.workers)], threads, pool)   # load supernet and data
            s, secs = scores(scoring, ref, genomes, threads, pool)
            print(f"bn_batches {bn} val_samples {val:5d}: {60 * len(genomes) / secs:6.0f} candidates/min "
                  f"({1000 * secs / len(genomes):.0f} ms each)  {rank(acc, s)}", flush=True)
    finally:
        if pool is not None:
            pool.close()


def setting(text: str) -> tuple[int, int]:
    bn, val = text.split("/")
    return int(bn), int(val)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["train", "ranking", "throughput"])
    ap.add_argument("--sampling", dest="samplings", action="append", choices=sorted(SAMPLERS))
    ap.add_argument("--paths", type=int, default=3000, help="training budget in paths, the same for each sampling")
    ap.add_argument("--lr", type=float, default=DEFAULT.lr)
    ap.add_argument("--share", choices=SHARES, default=DEFAULT.share,
                    help="supernet.share: what an operation's block is shared across")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--run", type=Path, help="ranking: score the supernet of this search's run directory")
    ap.add_argument("--workers", type=int, default=0, help="throughput: worker processes (0: this process)")
    ap.add_argument("--precision", choices=["32", "bf16-mixed"], help="throughput: fitness.precision")
    ap.add_argument("--bn-batches", type=int, default=DEFAULT.bn_batches)
    ap.add_argument("--settings", type=setting, nargs="+",
                    default=[(DEFAULT.bn_batches, DEFAULT.val_samples), (2, 500), (1, 500)],
                    help="bn_batches/val_samples pairs for throughput")
    args = ap.parse_args()
    args.samplings = args.samplings or ["uniform", "strict-fair"]
    torch.set_num_threads(args.threads)
    if args.command == "train":
        for sampling in args.samplings:
            train(bench_spec(sampling, args.paths, lr=args.lr, share=args.share))
    else:
        {"ranking": cmd_ranking, "throughput": cmd_throughput}[args.command](args)


if __name__ == "__main__":
    main()
