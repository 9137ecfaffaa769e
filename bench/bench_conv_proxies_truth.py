"""Every zero-cost estimator against the conv space's ground truth: the 50
random genomes of quick.yaml's space in bench/data/supernet_truth_50g_3e_10000.json,
each trained alone 3 epochs on 10,000 Fashion-MNIST images. Each estimator
scores each genome the way a search does (`evaluate` of the request a search
sends, seed 0, one torch thread), on the truth's task (quick.yaml with the
10,000-image subset; minibatch 64); Kendall τ and Spearman ρ against the
truth's validation accuracy, seconds per candidate (network build included).

`ensemble` scores its reference sample once per process: that cost is shown
apart (it is paid once per worker, not per candidate).

Run: nice -n 10 .venv/bin/python bench/bench_conv_proxies_truth.py
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml
from scipy.stats import kendalltau, spearmanr

from genelang.evolve.execution.evaluation import EvalContext, EvalRequest
from genelang.evolve.execution.fitness import evaluate
from genelang.evolve.spec.schema import parse_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "specs" / "quick.yaml"
TRUTH = ROOT / "bench" / "data" / "supernet_truth_50g_3e_10000.json"
ESTIMATORS = ("param-count", "macs", "synflow", "naswot", "jacob_cov", "snip", "grad_norm", "zico", "meco")
ENSEMBLES = {"ensemble(synflow,jacob_cov,snip)": ["synflow", "jacob_cov", "snip"],
             "ensemble(meco,zico,param-count)": ["meco", "zico", "param-count"]}


def spec_for(estimator: str, options: dict | None = None):
    d = yaml.safe_load(SPEC.read_text())
    d["task"]["subset"] = 10000
    d["fitness"] = {"estimator": estimator, "options": options or {}}
    return parse_spec(d, str(SPEC))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", type=int, default=32, help="ensemble's reference sample")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = json.loads(TRUTH.read_text())
    truth = [r["val_acc"] for r in rows]
    runs = [(e, spec_for(e)) for e in ESTIMATORS]
    runs += [(name, spec_for("ensemble", {"members": m, "reference": args.reference})) for name, m in ENSEMBLES.items()]
    evaluate(EvalRequest(rows[0]["genome"], 0, runs[0][1], EvalContext(threads=1)))   # load the data once
    print(f"{len(rows)} genomes of quick.yaml's space; truth: 3 epochs on 10,000 Fashion-MNIST images; "
          f"torch {torch.__version__}, 1 thread")
    print("| estimator | Kendall τ | Spearman ρ | s per candidate |\n|---|---|---|---|")
    for name, spec in runs:
        first = 0.0
        if name.startswith("ensemble"):      # its reference sample, scored once per process
            t = time.perf_counter()
            evaluate(EvalRequest(rows[0]["genome"], 0, spec, EvalContext(threads=1)))
            first = time.perf_counter() - t
        results = [evaluate(EvalRequest(r["genome"], 0, spec, EvalContext(threads=1))) for r in rows]
        bad = [r.reason for r in results if not r.ok]
        if bad:
            print(f"| {name} | {len(bad)} failed: {bad[0]} | | |")
            continue
        score = [r.fitness for r in results]
        sec = sum(r.seconds for r in results) / len(results)
        note = f" (+ {first:.0f} s once for its reference of {args.reference})" if first else ""
        print(f"| {name} | {kendalltau(truth, score)[0]:.3f} | {spearmanr(truth, score)[0]:.3f} | "
              f"{sec:.3f}{note} |", flush=True)


if __name__ == "__main__":
    main()
