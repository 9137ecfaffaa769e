"""Does a trained controller beat an untrained one? (MENAS's question of
ENAS, for a one-shot search over rnn genomes on the language model.)

`controller_study` draws n genomes from the search's controller before any
update (its initial policy: uniform over each free position) and n from the
controller its stored history trained (`replayed_strategy`), trains each
alone by truncated BPTT (`runtime.tbptt.train_alone`) and records its
stand-alone validation perplexity beside its perplexity through the search's
trained supernet, so the same samples also measure the supernet's ranking
(`summarize`: Welch and Mann–Whitney between the groups, Kendall τ between
supernet and stand-alone perplexity). Lower perplexity is better throughout.
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch

from genelang.compiler import load_text
from genelang.compiler.dag import canonical
from genelang.compiler.printer import format_genome
from genelang.compiler.template import Template
from genelang.evolve.estimators.oneshot import build_supernet
from genelang.evolve.search import replayed_strategy
from genelang.evolve.spec.schema import Spec
from genelang.evolve.strategies import make_strategy
from genelang.runtime.models import make_model
from genelang.runtime.supernet import load_checkpoint
from genelang.runtime.task_data import task_data
from genelang.runtime.tbptt import Streams, perplexity, train_alone
from genelang.study.stats import pairwise

GROUPS = ("untrained", "trained")


@dataclass(frozen=True)
class Sampled:
    group: str
    genome: str                # the genome's text
    standalone_ppl: float      # validation perplexity, trained alone
    supernet_ppl: float        # validation perplexity through the trained supernet


def controller_samples(spec: Spec, run_dir: Path, n: int, seed: int = 0) -> dict[str, list]:
    """n genomes from the untrained controller and n from the trained one."""
    template = Template.from_spec(spec.space, name=spec.run.name.replace("-", "_"))
    policies = {"untrained": make_strategy(spec, template), "trained": replayed_strategy(spec, run_dir)}
    out = {}
    for k, (group, policy) in enumerate(policies.items()):
        rng = random.Random(seed * 1_000_003 + k)
        out[group] = [template.genome(policy.sample(rng), f"{group}_{i}") for i in range(n)]
    return out


def lm_streams(spec: Spec) -> tuple[Streams, Streams]:
    """(training, validation) streams as the search's supernet trains and scores
    (validation: the first `supernet.val_samples` windows)."""
    task, _ = spec.configs()
    _, s = task_data(task)
    bs, n = spec.supernet.batch_size or task.batch_size, spec.supernet.val_samples
    return Streams.of(s.train[0], s.train[2], bs), Streams.of(s.val[0][:n], s.val[2][:n], bs)


def trained_supernet(spec: Spec, run_dir: Path):
    net = build_supernet(spec)
    saved = load_checkpoint(Path(run_dir) / "supernet" / "checkpoint.pt")
    if saved is None:
        raise FileNotFoundError(f"no supernet checkpoint in {run_dir}/supernet: run the search first")
    net.load_state_dict(saved["model"])
    return net.eval()


def standalone_perplexity(spec: Spec, genome, train: Streams, val: Streams, *, steps: int, lr: float,
                          seed: int = 0) -> float:
    """The genome's language model, built as the `train` estimator builds it, trained alone."""
    task, model = spec.configs()
    torch.manual_seed(seed)
    net = make_model(genome, task, model)     # an lm starts as `init_lm` sets it
    return train_alone(net, train, val, steps=steps, lr=lr, dropout=model.dropout, seed=seed)


def controller_study(spec: Spec, run_dir: Path, n: int, *, steps: int, lr: float, seed: int = 0,
                     start: int = 0, on_result: Callable[[Sampled], None] | None = None) -> list[Sampled]:
    """Pairs `start` to n-1 (an untrained-controller sample, then a trained one). The
    samples are drawn in the same order for any n and each trains from its own seed,
    so `start` = k extends a study that stopped after k pairs with what a longer
    run would have given."""
    train, val = lm_streams(spec)
    net = trained_supernet(spec, run_dir)
    samples = controller_samples(spec, run_dir, n, seed)
    out = []
    for i in range(start, n):      # the groups alternate, so a study cut short stays balanced
        for group in GROUPS:
            g = samples[group][i]
            with torch.no_grad():
                shared = perplexity(net.path(g), val)
            alone = standalone_perplexity(spec, g, train, val, steps=steps, lr=lr, seed=seed)
            out.append(Sampled(group, format_genome(g), alone, shared))
            if on_result is not None:
                on_result(out[-1])
    return out


def summarize(results: list[Sampled]) -> dict:
    """Per group: n, distinct networks (phenotypes), how many read a previous
    state (a recurrent cell; the others are feed-forward in time), median and mean
    stand-alone perplexity; the groups' Welch and Mann–Whitney p-values; Kendall
    τ of supernet against stand-alone perplexity (all samples and per group;
    non-finite ones left out)."""
    from scipy.stats import kendalltau
    finite = [r for r in results if math.isfinite(r.standalone_ppl) and math.isfinite(r.supernet_ppl)]
    by = {g: [r for r in finite if r.group == g] for g in GROUPS}
    out: dict = {"n": len(results), "non_finite": len(results) - len(finite), "groups": {}}
    for g, rs in by.items():
        ppl = sorted(r.standalone_ppl for r in rs)
        nets = [canonical(load_text(r.genome).genomes[0]) for r in rs]
        out["groups"][g] = {"n": len(rs), "distinct": len(set(nets)),
                            "recurrent": sum("[t-1]" in c for c in nets),
                            "median_ppl": ppl[len(ppl) // 2] if ppl else math.nan,
                            "mean_ppl": sum(ppl) / len(ppl) if ppl else math.nan,
                            "tau": _tau(kendalltau, rs)}
    pair = pairwise({g: [r.standalone_ppl for r in rs] for g, rs in by.items()})[0]
    out.update(welch_p=pair.welch_p, mannwhitney_p=pair.mannwhitney_p, cohens_d=pair.cohens_d,
               tau=_tau(kendalltau, finite))
    return out


def _tau(kendalltau, rs: list[Sampled]) -> float:
    if len(rs) < 3:
        return math.nan
    return float(kendalltau([r.supernet_ppl for r in rs], [r.standalone_ppl for r in rs]).statistic)


def density_plot(results: list[Sampled], path: Path) -> Path:
    """Densities (Gaussian KDE over log perplexity, with a rug) of each group's
    stand-alone perplexity, and supernet against stand-alone perplexity."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy.stats import gaussian_kde
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    finite = [r for r in results if math.isfinite(r.standalone_ppl) and math.isfinite(r.supernet_ppl)]
    logs = np.log10([r.standalone_ppl for r in finite])
    grid = np.linspace(logs.min() - 0.1, logs.max() + 0.1, 200)
    for g, color in zip(GROUPS, ("tab:gray", "tab:blue")):
        v = np.log10([r.standalone_ppl for r in finite if r.group == g])
        if len(v) > 1 and v.std() > 0:
            a.plot(10 ** grid, gaussian_kde(v)(grid), color=color, label=f"{g} controller (n={len(v)})")
        a.plot(10 ** v, np.zeros_like(v), "|", color=color, markersize=12)
        b.scatter([r.supernet_ppl for r in finite if r.group == g],
                  [r.standalone_ppl for r in finite if r.group == g], s=12, color=color, label=g)
    a.set(xscale="log", xlabel="stand-alone validation perplexity", ylabel="density (log10 ppl)")
    b.set(xscale="log", yscale="log", xlabel="supernet perplexity", ylabel="stand-alone perplexity")
    a.legend()
    b.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def as_rows(results: list[Sampled]) -> list[dict]:
    return [asdict(r) for r in results]
