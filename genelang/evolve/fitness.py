"""Fitness estimators. `evaluate_candidate` is a top-level function of plain
data (genome text, spec dict, seed) so process pools and Ray can ship it.

- train: low-fidelity training (epochs, subset; NASGEP's one-more-epoch above
  a threshold) through the runtime's training API; with `inherit_weights`,
  blocks start from the search's weight bank (`runtime/inherit.py`).
- random-weights: no backpropagation. Weights drawn from Uniform(−v, v) for
  each scale v (gene-nas); a closed-form ridge readout is fitted on the
  network's pooled random features and scored on validation data.
- naswot: log-determinant of the kernel of binary ReLU codes over one
  minibatch (Mellor et al. 2021).
- synflow: synaptic flow of |θ| with an all-ones input (Tanaka et al. 2020).
- params: minus the parameter count (a free baseline; useful in tests).
"""
from __future__ import annotations

import contextlib
import io
import math
import time
import traceback
from pathlib import Path

import torch
from torch import nn

from genelang.runtime.proxies import naswot, synflow

ESTIMATORS = ("train", "random-weights", "naswot", "synflow", "params")


def configs(spec: dict):
    """The TaskConfig and ModelConfig a search spec (as a dict) trains its candidates with."""
    from genelang.runtime.train import ModelConfig, TaskConfig
    t, m = spec["task"], spec["model"]
    task = TaskConfig(t["name"], root=t.get("root"), subset=t.get("subset"), val=t.get("val", 0.1),
                      batch_size=t.get("batch_size", 64), vectors=t.get("vectors"), dataset=t.get("dataset"),
                      augment=t.get("augment"), cutout=t.get("cutout", 0))
    model = ModelConfig(m["skeleton"], C=m["C"], N=m["N"], layers=m["layers"], hidden=m.get("hidden", 64),
                        freeze_embeddings=m.get("freeze_embeddings", True))
    return task, model


def evaluate_candidate(genome_text: str, spec: dict, seed: int) -> dict:
    """Score one genome; never raises: failures come back with a reason."""
    t0 = time.perf_counter()
    if spec.get("_threads"):
        torch.set_num_threads(spec["_threads"])
    noise = io.StringIO()   # torch.fx prints a failing module's code to stderr; keep it with the result
    try:
        with contextlib.redirect_stderr(noise):
            out = _evaluate(genome_text, spec, seed)
        fit = out.get("fitness")
        if out.get("status") == "infeasible":
            pass
        elif fit is None or (isinstance(fit, float) and math.isnan(fit)):
            out.update(status="failed", reason="fitness is NaN", fitness=None)
        else:
            out.setdefault("status", "ok")
    except Exception as err:   # a candidate's crash must not stop the search
        out = {"status": "failed", "fitness": None,
               "reason": f"{type(err).__name__}: {err}".strip()[:500],
               "traceback": (noise.getvalue() + traceback.format_exc(limit=4))[-2000:]}
    out["seconds"] = time.perf_counter() - t0
    return out


def _evaluate(genome_text: str, spec: dict, seed: int) -> dict:
    from genelang.compiler import load_text
    from genelang.runtime.train import make_model
    genome = load_text(genome_text, "<candidate>").genomes[0]
    fit = spec["fitness"]
    task, model_cfg = configs(spec)
    torch.manual_seed(seed)
    net = make_model(genome, task, model_cfg)
    params = sum(p.numel() for p in net.parameters())
    metrics: dict = {"params": params}
    if fit.get("max_params") and params > fit["max_params"]:
        return {"status": "infeasible", "reason": f"{params} parameters > max_params {fit['max_params']}",
                "fitness": None, "metrics": metrics}
    est = fit["estimator"]
    if est == "params":
        score = -float(params)
    elif est == "train":
        score = _train(genome, net, task, model_cfg, fit, seed, metrics, spec.get("_inherit"))
    elif est == "random-weights":
        score = _random_weights(net, task, fit["scales"], seed, metrics)
    elif est == "naswot":
        score = naswot(net, *_batch(task, seed))
    elif est == "synflow":
        score = synflow(net, _batch(task, seed)[0])
    else:
        raise ValueError(f"unknown estimator {est}")
    metrics["score"] = score
    return {"fitness": float(score), "metrics": metrics}


def _batch(task, seed):
    from genelang.runtime.train import sample_batch
    return sample_batch(task, seed)


def _train(genome, net, task, model_cfg, fit, seed, metrics, inherit: dict | None = None) -> float:
    from genelang.runtime import inherit as inh
    from genelang.runtime.train import train_genome
    if inherit:
        bank = inherit.get("bank")
        if bank and not Path(bank).exists():   # a Ray node that does not see the run directory
            raise FileNotFoundError(f"weight bank {bank} is not visible here: fitness.inherit_weights "
                                    "needs the run directory on a filesystem every worker shares")
        metrics["inherited_blocks"] = inh.inherit(net, inh.load_bank(bank))
    epochs = fit["epochs"]
    lr = fit["lr"] if genome.space == "conv" else None
    r = train_genome(genome, task, model_cfg, epochs=epochs, lr=lr, seed=seed, net=net)
    acc = r.metrics.get("score", float("nan"))
    total = epochs
    # NASGEP: a candidate above the threshold earns another epoch, up to max_epochs
    while fit.get("threshold") is not None and acc > fit["threshold"] and total < (fit.get("max_epochs") or total):
        r = train_genome(genome, task, model_cfg, epochs=1, lr=lr and lr * 0.5, seed=seed + total, net=net)
        acc = r.metrics.get("score", acc)
        total += 1
    metrics.update({k: v for k, v in r.metrics.items() if not k.endswith("_step")}, epochs=total)
    if inherit and math.isfinite(acc):
        # the search merges this into the bank once the generation is done
        from genelang.compiler.dag import phenotype_hash
        inh.save_bank(inh.bank_of(net, acc), Path(inherit["out"]) / f"{phenotype_hash(genome)}.pt")
    return acc


@torch.no_grad()
def _features(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    feats = net.global_pooling(net.head(net.features(x))).flatten(1)
    return feats


@torch.no_grad()
def _random_weights(net, task, scales, seed, metrics, n_fit: int = 512) -> float:
    from genelang.runtime.train import task_data
    _, s = task_data(task)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(s.train[0]), generator=g)[:n_fit]
    xtr, ytr = s.train[0][idx], s.train[1][idx]
    xva, yva = s.val[0][:n_fit], s.val[1][:n_fit]
    net.eval()
    accs = []
    for v in scales:
        for p in net.parameters():
            p.uniform_(-v, v, generator=g)
        ftr, fva = _features(net, xtr), _features(net, xva)
        mu, sd = ftr.mean(0), ftr.std(0).clamp_min(1e-6)
        ftr, fva = (ftr - mu) / sd, (fva - mu) / sd
        if not torch.isfinite(ftr).all():
            accs.append(0.0)
            continue
        n_cls = int(max(ytr.max(), yva.max())) + 1
        Y = torch.nn.functional.one_hot(ytr, n_cls).float()
        A = ftr.T @ ftr + 1.0 * torch.eye(ftr.shape[1])
        W = torch.linalg.solve(A, ftr.T @ Y)
        accs.append(((fva @ W).argmax(1) == yva).float().mean().item())
    metrics.update({f"rw_acc_{v}": a for v, a in zip(scales, accs)}, rw_max=max(accs))
    return sum(accs) / len(accs)
