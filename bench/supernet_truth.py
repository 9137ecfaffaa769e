"""Ground truth for the supernet ranking benchmark: stand-alone training of
random genomes of a spec's space (issue 15: 3 epochs on 10,000 Fashion-MNIST
images), cached in bench/data/ so the ranking benchmark can be re-run against
new supernets without retraining.

Run: .venv/bin/python bench/supernet_truth.py [--genomes 50] [--epochs 3] [--subset 10000]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genelang.compiler.dag import phenotype_hash  # noqa: E402
from genelang.compiler.printer import format_genome  # noqa: E402
from genelang.evolve.spec.schema import load_spec  # noqa: E402
from genelang.compiler.template import Template  # noqa: E402
from genelang.runtime.train import quiet_lightning, train_genome  # noqa: E402

SPEC = ROOT / "examples" / "specs" / "quick.yaml"


def random_genomes(template: Template, n: int, seed: int = 1234) -> list:
    """n random valid genomes with distinct phenotypes, the same for every caller."""
    rng, out, seen = random.Random(seed), [], set()
    while len(out) < n:
        g = template.genome(template.random(rng))
        if (h := phenotype_hash(g)) not in seen:
            seen.add(h)
            out.append(g)
    return out


def truth_path(genomes: int, epochs: int, subset: int) -> Path:
    return ROOT / "bench" / "data" / f"supernet_truth_{genomes}g_{epochs}e_{subset}.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genomes", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--subset", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    quiet_lightning()
    spec = load_spec(SPEC)
    task, model = spec.configs()
    task = replace(task, subset=args.subset)
    out = truth_path(args.genomes, args.epochs, args.subset)
    rows = json.loads(out.read_text()) if out.exists() else []
    done = {r["genome"] for r in rows}
    for i, g in enumerate(random_genomes(Template.from_spec(spec.space), args.genomes)):
        text = format_genome(g)
        if text in done:
            continue
        t0 = time.perf_counter()
        r = train_genome(g, task, model, epochs=args.epochs, lr=spec.fitness.lr, seed=i)
        rows.append({"genome": text, "val_acc": r.metrics["score"], "seconds": time.perf_counter() - t0})
        out.write_text(json.dumps(rows, indent=1))   # after each genome: a killed run resumes
        print(f"{len(rows)}/{args.genomes} val_acc {r.metrics['score']:.4f} ({rows[-1]['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
