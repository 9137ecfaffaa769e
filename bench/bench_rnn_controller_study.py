"""ENAS's recurrent search on the Wikipedia language model, then MENAS's study.

1. `genelang evolve examples/specs/enas_rnn_lm.yaml` (controller + rnn supernet,
   alternating), in OUT/search (resumed, or found done, when run again).
2. The found cell (the search's best) ablated with `genelang ablate`
   (drop-edges: each connection removed; add-edge: one connection added to
   each ADF and state), it and each variant trained alone for STEPS
   truncated-BPTT segments (3 seeds) and scored by validation perplexity.
3. N genomes from the untrained controller and N from the trained one
   (alternating), trained alone as in 2; also scored through the trained
   supernet (Kendall τ). Welch and Mann–Whitney between the groups;
   densities in OUT/density.png.

Usage: python bench/bench_rnn_controller_study.py OUT N STEPS [LR]
       python bench/bench_rnn_controller_study.py summarize OUT   (from OUT/samples.jsonl, e.g. a cut-short run)
       python bench/bench_rnn_controller_study.py ablate OUT STEPS [LR]   (step 2 alone)
       python bench/bench_rnn_controller_study.py more OUT N STEPS [LR]
           (step 3 extended to N pairs: OUT/samples.jsonl's k pairs kept, pairs k to N-1 appended;
           STEPS and LR must be the first run's)
Rows go to OUT/ablation.jsonl and OUT/samples.jsonl as they finish.
"""
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from genelang.compiler import load_file
from genelang.compiler.printer import format_genome
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import load_spec
from genelang.study.controller_study import (GROUPS, Sampled, controller_samples, controller_study, density_plot,
                                             lm_streams, standalone_perplexity, summarize)


def report(out: Path) -> None:
    results = [Sampled(**json.loads(line)) for line in open(out / "samples.jsonl")]
    density_plot(results, out / "density.png")
    print(json.dumps(summarize(results), indent=1), flush=True)


def bench_spec(out: Path):
    spec = load_spec("examples/specs/enas_rnn_lm.yaml")
    return spec.model_copy(update={"run": spec.run.model_copy(update={"out": str(out / "search")})})


def ablation(spec, out: Path, steps: int, lr: float) -> None:
    """The found cell and its `genelang ablate` variants, each trained alone (3 seeds)."""
    t0 = time.time()
    variants = out / "ablation"
    subprocess.run([sys.executable, "-m", "genelang", "ablate", str(out / "found.gene"), "drop-edges",
                    "add-edge:linear(h[t-1])", "add-edge:linear(x)", "--out", str(variants)], check=False)
    train, val = lm_streams(spec)
    with open(out / "ablation.jsonl", "w") as f:
        for path in [out / "found.gene", *sorted(variants.glob("*.gene"))]:
            g = load_file(path).genomes[0]
            ppl = [standalone_perplexity(spec, g, train, val, steps=steps, lr=lr, seed=s) for s in range(3)]
            row = {"variant": path.stem, "standalone_ppl": ppl}
            f.write(json.dumps(row) + "\n")
            f.flush()
            print(row, flush=True)
    print(f"ablation in {time.time() - t0:.0f}s, load {os.getloadavg()}", flush=True)


def study(spec, run_dir: Path, out: Path, n: int, steps: int, lr: float, start: int = 0) -> None:
    """Pairs `start` to n-1 appended to OUT/samples.jsonl (written anew from pair 0)."""
    t0 = time.time()
    with open(out / "samples.jsonl", "a" if start else "w") as f:
        results = controller_study(spec, run_dir, n, steps=steps, lr=lr, start=start,
                                   on_result=lambda r: (f.write(json.dumps(asdict(r)) + "\n"), f.flush()))
    print(f"study: {len(results)} genomes in {time.time() - t0:.0f}s, load {os.getloadavg()}", flush=True)
    report(out)


def more(out: Path, n: int, steps: int, lr: float) -> None:
    """Extend a study cut short: the samples drawn again must be the ones it stored."""
    torch.set_num_threads(1)
    spec = bench_spec(out)
    done = [Sampled(**json.loads(line)) for line in open(out / "samples.jsonl")]
    k = len(done) // 2
    drawn = controller_samples(spec, out / "search", k)
    again = [format_genome(drawn[group][i]) for i in range(k) for group in GROUPS]
    if [r.group for r in done[:2 * k]] != list(GROUPS) * k or [r.genome for r in done[:2 * k]] != again:
        sys.exit(f"{out}/samples.jsonl is not this search's first {k} pairs: not extended")
    if len(done) % 2:     # a pair cut in half: its second genome was never written
        (out / "samples.jsonl").write_text("".join(json.dumps(asdict(r)) + "\n" for r in done[:2 * k]))
    print("load", os.getloadavg(), f"{k} pairs kept", flush=True)
    study(spec, out / "search", out, n, steps, lr, start=k)


def main(out: Path, n: int, steps: int, lr: float) -> None:
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    spec = bench_spec(out)
    print("load", os.getloadavg(), flush=True)

    t0 = time.time()
    found = run_search(spec)
    print(f"search: {found.evaluations} evaluations in {time.time() - t0:.0f}s; best fitness "
          f"{found.best_fitness:.1f} (minus perplexity)", flush=True)
    (out / "found.gene").write_text(found.best_genome + "\n")

    ablation(spec, out, steps, lr)

    study(spec, found.run_dir, out, n, steps, lr)


if __name__ == "__main__":
    if sys.argv[1] == "summarize":
        report(Path(sys.argv[2]))
    elif sys.argv[1] == "ablate":      # the ablation alone: OUT (its search done) STEPS [LR]
        torch.set_num_threads(1)
        out = Path(sys.argv[2])
        ablation(bench_spec(out), out, int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.5)
    elif sys.argv[1] == "more":
        more(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) if len(sys.argv) > 5 else 0.5)
    else:
        main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.5)
