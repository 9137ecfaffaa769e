"""A transformer-block search against the standard post-LN layer at equal
parameters, on the bundled Wikipedia language model.

1. A GEP search over the transformer space (`examples/specs/transformer_lm.yaml`
   with --population, --generations and --windows; one worker, one thread),
   in OUT/search (resumed, or found done, when run again). Fitness is minus
   the validation perplexity after `fitness.epochs` epochs.
2. The search's best block against `examples/genotypes/transformer_post_ln.gene`:
   first each trained once as the search scored candidates (its sizes and
   epochs, seed 0); then, for step 3, at the same model width (so the same embedding and output matrices): the
   preset's FFN width is set so that its blocks have the searched blocks'
   parameter count; where no FFN width gets within 2% (the searched blocks are
   smaller than the preset's attention and norms alone), the searched genome's
   FFN width moves instead, and failing that its model width (whole models matched).
3. Both trained alone by `train_genome` (Adam 3e-3, cosine, clip 0.25) for
   --epochs over the search's training windows, seeds 0, 1, 2; validation
   perplexity over the task's whole validation split; Welch and Mann–Whitney.

Rows and the summary go to --json as they finish.

Run: PYTHONPATH=. python bench/bench_transformer_search.py OUT [--population 8] [--generations 6]
     [--windows 3000] [--epochs 3] [--json bench/data/transformer_search.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from genelang.compiler import load_file, load_text
from genelang.compiler.dag import canonical
from genelang.evolve.run.best import ranked
from genelang.evolve.run.store import Store
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import load_spec
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.train import train_genome
from genelang.study.stats import pairwise

from param_budget import closest, n_params   # bench/param_budget.py

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "specs" / "transformer_lm.yaml"
PRESET = ROOT / "examples" / "genotypes" / "transformer_post_ln.gene"
SEEDS = (0, 1, 2)
TOLERANCE = 0.02      # parameter counts within 2% count as equal


def search_spec(out: Path, population: int, generations: int, windows: int):
    s = load_spec(SPEC)
    return s.model_copy(update={
        "run": s.run.model_copy(update={"out": str(out / "search")}),
        "task": s.task.model_copy(update={"subset": windows}),
        "strategy": s.strategy.model_copy(update={"population": population, "generations": generations}),
        "execution": s.execution.model_copy(update={"workers": 1, "threads": 1})})


def equal_budget(searched, preset, task: TaskConfig, model: ModelConfig) -> tuple[dict, str]:
    """Model configs of the two at (as near as sizes allow) equal parameters, and
    what was adjusted. Adjustments in order of preference (the searched block as
    it was searched first): the preset's FFN width to the searched blocks' count;
    the searched genome's FFN width to the preset's; the searched model's width
    (a multiple of the heads) to the preset's whole model."""
    def blocks(g, m: ModelConfig) -> int:
        return n_params(g, task, m, layers_only=True)

    def whole(g, m: ModelConfig) -> int:
        return n_params(g, task, m)

    def ffn_for(g, target: int) -> ModelConfig:
        return replace(model, ffn=closest(lambda f: blocks(g, replace(model, ffn=f)), target, 1, 64 * model.ffn))

    def width_for(g, target: int) -> ModelConfig:
        k = closest(lambda k: whole(g, replace(model, hidden=k * model.heads)), target, 1, 256)
        return replace(model, hidden=k * model.heads)

    tried = []   # (configs, what was adjusted, the count matched)
    m = ffn_for(preset, blocks(searched, model))
    tried.append(({"searched": model, "preset": m}, f"preset's ffn {model.ffn} -> {m.ffn}", blocks))
    m = ffn_for(searched, blocks(preset, model))
    tried.append(({"searched": m, "preset": model}, f"searched ffn {model.ffn} -> {m.ffn}", blocks))
    m = width_for(searched, whole(preset, model))
    tried.append(({"searched": m, "preset": model}, f"searched hidden {model.hidden} -> {m.hidden}", whole))

    def gap(t) -> float:
        configs, _, count = t
        a, b = count(searched, configs["searched"]), count(preset, configs["preset"])
        return abs(a - b) / b

    configs, how, _ = next((t for t in tried if gap(t) <= TOLERANCE), min(tried, key=gap))
    return configs, how


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--population", type=int, default=8)
    ap.add_argument("--generations", type=int, default=6)
    ap.add_argument("--windows", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "data" / "transformer_search.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = search_spec(args.out, args.population, args.generations, args.windows)
    task, model = spec.configs()
    report: dict = {"command": " ".join(["python", *sys.argv]), "load_start": os.getloadavg(),
                    "task": asdict(task), "model": asdict(model), "epochs": args.epochs, "seeds": list(SEEDS)}

    def save() -> None:
        args.json.write_text(json.dumps(report, indent=1) + "\n")

    t0 = time.time()
    found = run_search(spec)
    store = Store.open_readonly(found.run_dir / "results.sqlite")
    top = ranked(store.evaluations())
    store.close()
    report["search"] = {"evaluations": found.evaluations, "failures": found.failures,
                        "distinct": len(top), "seconds": round(time.time() - t0),
                        "load_end": os.getloadavg(), "spec_epochs": spec.fitness.epochs,
                        "top5": [{"fitness": e.fitness, "params": e.metrics.get("params"), "genome": e.genome}
                                 for e in top[:5]]}
    print(f"search: {found.evaluations} evaluations ({len(top)} distinct ok, {found.failures} failed) in "
          f"{report['search']['seconds']} s; best val ppl {-found.best_fitness:.1f}; load {os.getloadavg()}",
          flush=True)
    (args.out / "found.gene").write_text(found.best_genome + "\n")
    searched, preset = load_text(found.best_genome).genomes[0], load_file(PRESET).genomes[0]
    genomes = {"searched": searched, "preset": preset}
    # both as the search would have scored them (its sizes, fitness.epochs; seed 0 for both)
    report["search_fidelity_val_ppl"] = {
        name: train_genome(g, task, model, epochs=spec.fitness.epochs, seed=0).metrics["val_ppl"]
        for name, g in genomes.items()}
    print(f"at the search's fidelity: {report['search_fidelity_val_ppl']}", flush=True)
    configs, how = equal_budget(searched, preset, task, model)
    report["same_network_as_preset"] = canonical(searched) == canonical(preset)
    report["matched_by"] = how
    report["arms"] = {}
    for name, g in genomes.items():
        m = configs[name]
        arm = report["arms"][name] = {"genome": found.best_genome if name == "searched" else PRESET.read_text(),
                                      "hidden": m.hidden, "ffn": m.ffn, "heads": m.heads, "layers": m.rnn_layers,
                                      "params": n_params(g, task, m),
                                      "block_params": n_params(g, task, m, layers_only=True),
                                      "val_ppl": [], "seconds": [], "load": []}
        print(f"{name}: hidden {m.hidden}, ffn {m.ffn}: {arm['params']:,} params, blocks {arm['block_params']:,}",
              flush=True)
    for seed in SEEDS:      # seeds alternate between the arms, so load drifts hit both alike
        for name, g in genomes.items():
            arm = report["arms"][name]
            r = train_genome(g, task, configs[name], epochs=args.epochs, seed=seed)
            arm["val_ppl"].append(r.metrics["val_ppl"])
            arm["seconds"].append(round(r.seconds, 1))
            arm["load"].append(os.getloadavg()[0])
            print(f"  {name} seed {seed}: val ppl {r.metrics['val_ppl']:.1f} ({r.seconds:.0f} s, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
            save()
    for arm in report["arms"].values():
        arm["mean"], arm["std"] = statistics.mean(arm["val_ppl"]), statistics.stdev(arm["val_ppl"])
    pair = pairwise({name: arm["val_ppl"] for name, arm in report["arms"].items()})[0]
    report["test"] = {"diff_searched_minus_preset": pair.diff, "welch_p": pair.welch_p,
                      "mannwhitney_p": pair.mannwhitney_p, "cohens_d": pair.cohens_d}
    report["load_end"] = os.getloadavg()
    save()
    print(f"\nmatched by {how}; same network as the preset: {report['same_network_as_preset']}")
    print("| block | hidden | ffn | params | of which blocks | val ppl (mean ± sd) | per seed | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, a in report["arms"].items():
        print(f"| {name} | {a['hidden']} | {a['ffn']} | {a['params']:,} | {a['block_params']:,} | "
              f"{a['mean']:.1f} ± {a['std']:.1f} | {', '.join(f'{p:.1f}' for p in a['val_ppl'])} | "
              f"{sum(a['seconds']):.0f} |")
    print(json.dumps(report["test"]), f"load {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
