"""Random valid genomes from a spec's search space: the baseline population
for "does the search beat its own space's random architectures?"."""
from __future__ import annotations

import random
from pathlib import Path

from genelang.atomic import atomic_write
from genelang.compiler.dag import phenotype_hash
from genelang.compiler.printer import format_genome
from genelang.evolve.spec.schema import Spec
from genelang.compiler.template import Template


def sample_genomes(spec: Spec, n: int, seed: int | None = None) -> list:
    """`n` distinct (by phenotype) random genomes of the spec's space."""
    t = Template.from_spec(spec.space, name="sample")
    rng = random.Random(f"sample:{spec.run.seed if seed is None else seed}")
    out, seen = [], set()
    for _ in range(n * 50):
        g = t.genome(t.random(rng), name=f"sample_{len(out):03d}")
        h = phenotype_hash(g)
        if h not in seen:
            seen.add(h)
            out.append(g)
            if len(out) == n:
                break
    return out


def write_sample(spec: Spec, n: int, out_dir: Path, seed: int | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for g in sample_genomes(spec, n, seed):
        p = out_dir / f"{g.name}.gene"
        atomic_write(p, f"# A random genome of the space of spec run {spec.run.name!r} (genelang sample)\n"
                     + format_genome(g))
        paths.append(p)
    return paths
