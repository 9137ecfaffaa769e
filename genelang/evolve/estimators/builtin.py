"""The built-in estimators.

- train: low-fidelity training (epochs, subset; NASGEP's one-more-epoch above
  a threshold) through the runtime's training API; with `inherit_weights`,
  blocks start from the search's weight bank (`runtime/inherit.py`).
- random-weights: no backpropagation. Weights drawn from Uniform(−v, v) for
  each scale v (gene-nas); a closed-form ridge readout is fitted on the
  network's pooled random features and scored on validation data.
- naswot, synflow: zero-cost proxies (`runtime/proxies.py`) on one minibatch.
- params: minus the parameter count (a free baseline; useful in tests).
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from genelang.evolve.estimators import Candidate, register_estimator
from genelang.runtime import proxies

IMAGE_SPACES = {"conv"}     # estimators that read an image network's pooled features
PROXY_SPACES = {"conv", "nb201"}   # zero-cost proxies: any image classifier of convs and linears


@register_estimator("params")
def params(c: Candidate) -> float:
    """Minus the parameter count: a free baseline."""
    return -float(c.metrics["params"])


@register_estimator("naswot", spaces=PROXY_SPACES)
def naswot(c: Candidate) -> float:
    """Log-determinant of the binary ReLU-code kernel over one minibatch (Mellor et al. 2021)."""
    return proxies.naswot(*_on_device(c))


@register_estimator("synflow", spaces=PROXY_SPACES)
def synflow(c: Candidate) -> float:
    """Synaptic flow of |θ| with an all-ones input (Tanaka et al. 2020)."""
    net, x, _ = _on_device(c)
    return proxies.synflow(net, x)


def _on_device(c: Candidate):
    """The candidate's network and one training minibatch, on its device."""
    from genelang.runtime.train import sample_batch
    x, y = sample_batch(c.task, c.seed)
    device = c.context.device
    return c.net.to(device), x.to(device), y.to(device)


@register_estimator("random-weights", spaces=IMAGE_SPACES)
@torch.no_grad()
def random_weights(c: Candidate, n_fit: int = 512) -> float:
    """Ridge readout of random-weight features, mean accuracy over Uniform(−v, v) scales (gene-nas)."""
    from genelang.runtime.train import task_data
    net, scales = c.net, c.fitness.scales
    _, s = task_data(c.task)
    g = torch.Generator().manual_seed(c.seed)
    idx = torch.randperm(len(s.train[0]), generator=g)[:n_fit]
    xtr, ytr = s.train[0][idx], s.train[1][idx]
    xva, yva = s.val[0][:n_fit], s.val[1][:n_fit]
    net.eval()
    accs = []
    for v in scales:
        for p in net.parameters():
            p.uniform_(-v, v, generator=g)
        accs.append(_ridge_accuracy(_features(net, xtr), ytr, _features(net, xva), yva))
    c.metrics.update({f"rw_acc_{v}": a for v, a in zip(scales, accs)}, rw_max=max(accs))
    return sum(accs) / len(accs)


def _features(net, x: torch.Tensor) -> torch.Tensor:
    return net.global_pooling(net.head(net.features(x))).flatten(1)


def _ridge_accuracy(ftr, ytr, fva, yva) -> float:
    mu, sd = ftr.mean(0), ftr.std(0).clamp_min(1e-6)
    ftr, fva = (ftr - mu) / sd, (fva - mu) / sd
    if not torch.isfinite(ftr).all():
        return 0.0
    n_cls = int(max(ytr.max(), yva.max())) + 1
    Y = torch.nn.functional.one_hot(ytr, n_cls).float()
    W = torch.linalg.solve(ftr.T @ ftr + torch.eye(ftr.shape[1]), ftr.T @ Y)
    return ((fva @ W).argmax(1) == yva).float().mean().item()


@register_estimator("train", trains=True)
def train(c: Candidate) -> float:
    """Low-fidelity training; NASGEP's one more epoch while above `threshold`."""
    from genelang.runtime import inherit as inh
    from genelang.runtime.train import train_genome
    ref, fit = c.context.inherit, c.fitness
    if ref is not None:
        if ref.bank and not Path(ref.bank).exists():   # a Ray node that does not see the run directory
            raise FileNotFoundError(f"weight bank {ref.bank} is not visible here: fitness.inherit_weights "
                                    "needs the run directory on a filesystem every worker shares")
        c.metrics["inherited_blocks"] = inh.inherit(c.net, inh.load_bank(ref.bank))
    lr = training_lr(c.spec, c.genome)
    kw = dict(seed=c.seed, net=c.net, device=c.context.device, precision=fit.precision)
    r = train_genome(c.genome, c.task, c.model, epochs=fit.epochs, lr=lr, **kw)
    acc, total = r.metrics.get("score", float("nan")), fit.epochs
    while fit.threshold is not None and acc > fit.threshold and total < (fit.max_epochs or total):
        kw["seed"] = c.seed + total
        r = train_genome(c.genome, c.task, c.model, epochs=1, lr=lr and lr * 0.5, **kw)
        acc = r.metrics.get("score", acc)
        total += 1
    c.metrics.update({k: v for k, v in r.metrics.items() if not k.endswith("_step")}, epochs=total)
    if ref is not None and math.isfinite(acc):
        # the search merges this into the bank once the generation is done
        from genelang.compiler.dag import phenotype_hash
        inh.save_bank(inh.bank_of(c.net, acc), Path(ref.out) / f"{phenotype_hash(c.genome)}.pt")
    return acc


def training_lr(spec, genome=None) -> float | None:
    """The spec's learning rate for image networks (SGD); sequence models keep
    the runtime's Adam default."""
    from genelang.runtime.tasks import task_names
    return spec.fitness.lr if spec.task.name in task_names("image") else None

