"""Train genomes over seeds under one schedule and compare them.

Every finished training is a row in OUT/compare.sqlite keyed by (phenotype,
seed, schedule), so a rerun, or one with more seeds, trains only what is
missing. Trainings run through the evolve backends (in-process, a process
pool, or Ray) with the `train` estimator.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from genelang.atomic import atomic_write
from genelang.compiler import load_file
from genelang.compiler.ast import Genome
from genelang.compiler.dag import phenotype_hash
from genelang.compiler.printer import format_genome
from genelang.evolve.execution.backends import worker_threads
from genelang.evolve.run.store import Trainings
from genelang.evolve.execution.evaluation import EvalContext, EvalRequest, EvalResult
from genelang.evolve.spec.schema import Spec, parse_spec
from genelang.runtime.devices import Setting, lightning_precision, resolve_devices
from genelang.study.stats import Pairwise, Summary, pairwise, summarize


@dataclass
class Entry:
    label: str
    group: str
    genome: Genome


@dataclass
class Comparison:
    values: dict[str, list[float]]          # label → metric per seed
    params: dict[str, int]
    macs: dict[str, int]
    summaries: list[Summary]
    pairs: list[Pairwise]
    groups: dict[str, list[str]]            # group → labels
    group_summaries: list[Summary] = field(default_factory=list)
    group_pairs: list[Pairwise] = field(default_factory=list)
    # a single genome against a group: the share of the group's genomes it beats
    standings: list[tuple[str, str, float]] = field(default_factory=list)
    trained: int = 0
    reused: int = 0
    plot: Path | None = None


def entries_from(files: list[Path], groups: list[tuple[str, Path]]) -> list[Entry]:
    """One entry per genome of `files` and of each group's directory. A file
    given twice, or two genomes under one label, is an error: the same label
    twice would silently become a group of one genome's runs."""
    from genelang.errors import GenelangError
    seen: dict[Path, str] = {}
    for f in list(files) + [Path(d) for _, d in groups]:
        key = Path(f).resolve()
        if key in seen:
            raise GenelangError.at("compare", f"{f} is given twice", str(f),
                                   hint="each genome file and group directory once")
        seen[key] = str(f)
    out = []
    for f in files:
        gf = load_file(f)
        for g in gf.genomes:
            label = f.stem if len(gf.genomes) == 1 else f"{f.stem}:{g.name}"
            out.append(Entry(label, label, g))
    for name, d in groups:
        paths = sorted(Path(d).glob("*.gene")) if Path(d).is_dir() else [Path(d)]
        members = [Entry(f"{name}/{p.stem}", name, g) for p in paths for g in load_file(p).genomes]
        if len(members) == 1:   # a group of one genome is that genome, under the group's name
            members[0].label = name
        out += members
    labels: dict[str, Entry] = {}
    for e in out:
        if e.label in labels:
            raise GenelangError.at("compare", f"two genomes are both labelled {e.label!r}", e.label,
                                   hint="rename one file (labels are file names) or its group")
        labels[e.label] = e
    return out


def _schedule_spec(task: str, epochs: int, subset: int | None, root: str | None, model: dict,
                   workers: int, lr: float, threads: int | None = None, devices: Setting = "cpu",
                   precision: str | None = None) -> Spec:
    # checked here, so a bad value is located at the argument (the CLI's flag), not in a spec
    lightning_precision(precision, resolve_devices(devices)[0])
    return parse_spec({"run": {"name": "compare"}, "task": {"name": task, "subset": subset, "root": root},
                       "model": model,
                       "fitness": {"estimator": "train", "epochs": epochs, "lr": lr, "precision": precision},
                       "execution": {"workers": workers, "threads": threads, "devices": devices}})


def _schedule(spec: Spec) -> str:
    """What makes two trainings comparable: the task, model and fitness sections."""
    parts = {k: v for k, v in spec.model_dump().items() if k in ("task", "model", "fitness")}
    if parts["fitness"]["precision"] is None:   # stores from before precision existed stay valid
        del parts["fitness"]["precision"]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def compare(entries: list[Entry], *, task: str, seeds: int = 5, epochs: int = 1, subset: int | None = None,
            root: str | None = None, model: dict | None = None, workers: int = 0, threads: int | None = None,
            lr: float = 0.05, devices: Setting = "cpu", precision: str | None = None,
            out_dir: Path = Path("compare"), evaluate: Callable | None = None,
            progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Train every entry on seeds 0..seeds-1 (reusing stored runs) and compare.
    `devices` and `precision` are a search spec's `execution.devices` and
    `fitness.precision`: with GPUs the trainings run per_device (4) to a GPU."""
    from genelang.evolve.execution.backends import make_backend
    spec = _schedule_spec(task, epochs, subset, root, model or {}, workers, lr, threads, devices, precision)
    schedule = _schedule(spec)
    store = Trainings(out_dir / "compare.sqlite")
    texts = {e.label: format_genome(e.genome) for e in entries}
    phen = {e.label: phenotype_hash(e.genome) for e in entries}
    todo = []
    seen = set()
    for e in entries:
        for s in range(seeds):
            key = (phen[e.label], s)
            if store.get(phen[e.label], s, schedule) is None and key not in seen:
                seen.add(key)
                todo.append((e.label, s))
    reused = len(entries) * seeds - len(todo)
    done = [0]

    def on_result(k: int, result: EvalResult) -> None:
        label, s = todo[k]
        store.put(phen[label], s, schedule, label, texts[label], EvalResult.coerce(result))
        done[0] += 1
        if progress:
            progress(done[0], len(todo))

    if todo:
        if evaluate is not None:
            for k, (label, s) in enumerate(todo):
                on_result(k, evaluate(texts[label], s))
        else:
            backend = make_backend(spec)
            context = EvalContext(threads=worker_threads(spec))
            try:
                backend.map([EvalRequest(texts[label], s, spec, context) for label, s in todo], on_result)
            finally:
                backend.close()
    values: dict[str, list[float]] = {}
    params: dict[str, int] = {}
    for e in entries:
        rows = [store.get(phen[e.label], s, schedule) for s in range(seeds)]
        values[e.label] = [r[1] for r in rows if r and r[0] == "ok" and r[1] is not None]
        params[e.label] = next((r[2] for r in rows if r and r[2]), 0)
    macs = _macs(entries, spec)
    labels = [e.label for e in entries]
    valid = {k: v for k, v in values.items() if v}
    groups: dict[str, list[str]] = {}
    for e in entries:
        groups.setdefault(e.group, []).append(e.label)
    singles = [ls[0] for ls in groups.values() if len(ls) == 1 and ls[0] in valid]
    multi = {g: ls for g, ls in groups.items() if len(ls) > 1}
    # seed-level tests between single genomes; genome-level tests between groups
    pair_set = {k: valid[k] for k in singles} if multi else valid
    # the compared value is a validation accuracy on image tasks: its interval stays in [0, 1]
    from genelang.runtime.tasks import task_names
    bounds = (0.0, 1.0) if task in task_names("image") else None
    result = Comparison(values, params, macs, [summarize(k, valid[k], bounds) for k in labels if k in valid],
                        pairwise(pair_set) if len(pair_set) > 1 else [], {}, trained=len(todo),
                        reused=reused)
    if multi:
        result.groups = groups
        means = {l: sum(v) / len(v) for l, v in valid.items()}
        per_genome = {g: [means[l] for l in ls if l in means] for g, ls in multi.items()}
        per_genome = {g: v for g, v in per_genome.items() if v}
        result.group_summaries = [summarize(g, v, bounds) for g, v in per_genome.items()]
        result.group_pairs = pairwise(per_genome) if len(per_genome) > 1 else []
        result.standings = [(l, g, sum(m < means[l] for m in v) / len(v))
                            for l in singles for g, v in per_genome.items()]
    result.plot = _plot(result, out_dir)
    return result


def _macs(entries, spec: Spec) -> dict[str, int]:
    import torch

    from genelang.runtime.summary import summarize as cost
    from genelang.runtime.models import make_model
    from genelang.runtime.task_data import sample_batch
    out = {}
    tcfg, mcfg = spec.configs()
    x = sample_batch(tcfg)[0][:1]
    for e in entries:
        torch.manual_seed(0)
        out[e.label] = cost(make_model(e.genome, tcfg, mcfg), x)[-1].macs
    return out


def _plot(result: Comparison, out_dir: Path) -> Path | None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if result.groups and result.group_summaries:
        names = [g for g, ls in result.groups.items() if any(result.values.get(l) for l in ls)]
        data = [[sum(result.values[l]) / len(result.values[l]) for l in result.groups[g] if result.values.get(l)]
                for g in names]
        ylabel = "mean validation accuracy per genome"
    else:
        names = [s.label for s in result.summaries]
        data = [result.values[n] for n in names]
        ylabel = "validation accuracy per seed"
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(names)), 4))
    ax.boxplot(data, showfliers=False)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(d)), d, s=14, alpha=0.7, color="C1", zorder=3)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    path = out_dir / "compare.png"
    atomic_write(path, lambda p: fig.savefig(p, dpi=100))
    plt.close(fig)
    return path
