"""Zero-cost proxies beyond naswot and synflow (those live in `proxies.py`),
each as its paper and reference code compute it, on an untrained network in
training mode (BatchNorm on batch statistics, as every reference runs them):

- snip: Σ |θ ⊙ ∂L/∂θ| over the weights of convs and linears, L the
  cross-entropy of one minibatch (Lee et al. 2019, as zero-cost-nas computes
  it: the gradient of a weight mask at 1 is exactly θ ⊙ ∂L/∂θ).
- grad_norm: Σ over those layers of ‖∂L/∂θ‖₂ (zero-cost-nas).
- jacob_cov: −Σ (log(λ+k) + 1/(λ+k)), k = 1e-5, over the eigenvalues λ of the
  correlation matrix of the per-image input Jacobians of the summed logits
  (Mellor et al.'s first version, as zero-cost-nas computes it).
- zico: Σ over layers of log Σ_θ mean_b|g_θ| / std_b(g_θ), g the loss
  gradient of each of ≥ 2 minibatches b, over the weights whose gradient
  varies (Li et al. ICLR 2023).
- meco: Σ over every module's output of the minimum eigenvalue of the Pearson
  correlation matrix of its channels, on one image (Jiang et al. NeurIPS 2023).
- macs: multiply-adds of one image, counted as `genelang compile --to summary`.

`score_all` computes every proxy of one network from shared passes (one
forward serves naswot, snip, grad_norm, jacob_cov and zico's first batch):
the same numbers as calling each function, at about half the cost.

`rank_vote` is the ensemble of Abdelfattah et al.: each member ranks a set of
candidates, a candidate's vote is the mean of its ranks.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genelang.runtime import proxies

JACOB_K = 1e-5    # zero-cost-nas's regulariser of jacob_cov's eigenvalues


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """The layers the references score: convolutions and linears (zero-cost-nas's
    `get_layer_metric_array`, ZiCo's `getgrad`); BatchNorm's affine weights are not."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _loss_grads(net: nn.Module, logits: torch.Tensor, y: torch.Tensor, layers: list[nn.Module],
                retain_graph: bool = False) -> list[torch.Tensor]:
    """∂CE/∂θ per layer; zeros for a layer the output does not depend on (a conv
    behind a `none` edge), as a zero-grad network leaves it."""
    weights = [m.weight for m in layers]
    grads = torch.autograd.grad(F.cross_entropy(logits, y), weights, retain_graph=retain_graph,
                                allow_unused=True)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]


def loss_grads(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """The cross-entropy gradient of each of `weight_layers(net)` on one minibatch."""
    net.train()
    return _loss_grads(net, net(x), y, weight_layers(net))


# --- scores from gradients (shared by the single proxies and score_all) -------------------

def snip_of(layers: list[nn.Module], grads: list[torch.Tensor]) -> float:
    return float(sum((m.weight.detach() * g).abs().sum().item() for m, g in zip(layers, grads)))


def grad_norm_of(grads: list[torch.Tensor]) -> float:
    return float(sum(g.norm().item() for g in grads))


def zico_of(per_batch: Sequence[list[torch.Tensor]]) -> float:
    """ZiCo from the gradients of ≥ 2 minibatches (`per_batch[b][layer]`). The
    std is the population one (numpy's default, as the reference); weights
    whose gradient never varies are left out (their ratio is undefined), and a
    layer with nothing left adds nothing (the reference skips a zero sum)."""
    if len(per_batch) < 2:
        raise ValueError("zico needs the gradients of at least 2 minibatches")
    score = 0.0
    for layer in zip(*per_batch):
        g = torch.stack([t.double().flatten() for t in layer])
        std = g.std(0, unbiased=False)
        varies = std != 0
        total = (g.abs().mean(0)[varies] / std[varies]).sum().item()
        if total != 0:
            score += math.log(total)
    return score


def jacob_cov_of(jacobians: torch.Tensor) -> float:
    """From the per-image input Jacobians (N × anything). A network whose
    Jacobian does not vary over an image (a constant row: no correlation) scores
    −inf, the worst there is; the reference's NaN would be unrankable."""
    j = jacobians.reshape(len(jacobians), -1).double()
    corr = torch.corrcoef(j)
    if not torch.isfinite(corr).all():
        return float("-inf")
    v = torch.linalg.eigvalsh(corr)   # symmetric: the reference's eig, real by construction
    return float(-(torch.log(v + JACOB_K) + 1.0 / (v + JACOB_K)).sum())


# --- the proxies ------------------------------------------------------------------------

def snip(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return snip_of(weight_layers(net), loss_grads(net, x, y))


def grad_norm(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return grad_norm_of(loss_grads(net, x, y))


def zico(net: nn.Module, batches: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """`batches`: ≥ 2 (images, labels) minibatches (ZiCo uses two of 64 on NAS-Bench-201).
    Each minibatch's gradient alone: the paper's statistic is over per-batch gradients
    (the released code accumulates them without zeroing; we follow the paper)."""
    return zico_of([loss_grads(net, x, y) for x, y in batches])


def _input_jacobians(net: nn.Module, logits: torch.Tensor, x: torch.Tensor, retain_graph: bool = False):
    # ∂(Σ logits)/∂x: zero-cost-nas backpropagates ones through the output
    return torch.autograd.grad(logits.sum(), x, retain_graph=retain_graph)[0]


def jacob_cov(net: nn.Module, x: torch.Tensor, _y=None) -> float:
    net.train()
    x = x.detach().requires_grad_(True)
    return jacob_cov_of(_input_jacobians(net, net(x), x))


@contextmanager
def _feature_maps(net: nn.Module) -> Iterator[list[torch.Tensor]]:
    """While open, the output of every module's forward (containers included:
    MeCo's reference hooks `named_modules()`, so a Sequential's output counts
    again beside its last layer's)."""
    outs: list[torch.Tensor] = []

    def hook(_m, _inp, out):
        if isinstance(out, torch.Tensor) and out.dim() >= 2:
            outs.append(out.detach())

    with proxies.forward_hooks(net.modules(), hook):
        yield outs


def meco_of(feature_maps: list[torch.Tensor]) -> float:
    """Σ of the minimum eigenvalue of each map's channel correlation matrix, the
    first image of the batch only (MeCo scores one image: channels × positions).
    Constant channels' undefined correlations count as 0, as in the reference."""
    score = 0.0
    for out in feature_maps:
        fea = out[0].reshape(out.shape[1], -1).double()
        if fea.shape[1] < 2:     # one position per channel: no correlation is defined, all count 0
            continue
        corr = torch.nan_to_num(torch.corrcoef(fea), nan=0.0, posinf=0.0, neginf=0.0)
        score += torch.linalg.eigvalsh(corr)[0].item()   # ascending: [0] is the minimum
    return score


@torch.no_grad()
def meco(net: nn.Module, x: torch.Tensor, _y=None) -> float:
    """On `x[:1]`: MeCo needs one image and one forward pass."""
    net.train()
    with _feature_maps(net) as maps:
        net(x[:1])
    return meco_of(maps)


def macs(net: nn.Module, x: torch.Tensor, _y=None) -> int:
    from genelang.runtime.summary import measure
    cost, _ = measure(net, x[:1])
    net.train()      # measure leaves it in eval mode; the proxies expect training mode
    return cost.macs


def params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# --- every proxy of one network from shared passes -------------------------------------

def score_all(net: nn.Module, batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
              released_zico: bool = False) -> dict[str, float]:
    """naswot, snip, grad_norm, jacob_cov, zico (over all of `batches`, ≥ 2),
    meco, macs, params and synflow of `net`, on `batches[0]` where a proxy takes
    one minibatch. Spends `net` (synflow, last, strips its BatchNorm).
    `released_zico` adds `zico_released`: ZiCo as its released code computes it,
    the gradients accumulated over the batches (no zeroing between them)."""
    (x, y), rest = batches[0], batches[1:]
    out: dict[str, float] = {"params": params(net), "macs": macs(net, x), "meco": meco(net, x)}
    layers = weight_layers(net)
    net.train()
    xg = x.detach().requires_grad_(True)
    # one forward: ReLU codes (naswot), then the loss's weight gradients and the
    # logits' input Jacobian from the same graph; the network is in the same
    # state for each (train-mode BN only updates running statistics it does not use)
    with proxies.relu_codes(net) as codes:
        logits = net(xg)
    out["naswot"] = proxies.naswot_of(codes)
    grads = _loss_grads(net, logits, y, layers, retain_graph=True)
    out["jacob_cov"] = jacob_cov_of(_input_jacobians(net, logits, xg))
    del logits
    out["snip"], out["grad_norm"] = snip_of(layers, grads), grad_norm_of(grads)
    per_batch = [grads] + [loss_grads(net, bx, by) for bx, by in rest]
    out["zico"] = zico_of(per_batch)
    if released_zico:
        out["zico_released"] = zico_of([[sum(gs) for gs in zip(*per_batch[:b + 1])]
                                        for b in range(len(per_batch))])
    out["synflow"] = proxies.synflow(net, x, keep=False)
    return out


# --- the rank vote ------------------------------------------------------------------------

def ranks(scores: Sequence[float]) -> np.ndarray:
    """1 for the lowest score, ties sharing their mean rank; NaN ranks lowest."""
    from scipy.stats import rankdata
    a = np.asarray(scores, dtype=float)
    return rankdata(np.where(np.isnan(a), -np.inf, a))


def rank_vote(columns: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Each candidate's mean rank over the member proxies (`columns[name][i]` is
    member `name`'s score of candidate i; higher is better for every member)."""
    if not columns:
        raise ValueError("a rank vote needs at least one member")
    return np.mean([ranks(c) for c in columns.values()], axis=0)


def percentile(value: float, reference: Sequence[float]) -> float:
    """Where `value` stands among `reference` in [0, 1]: the share below it, ties
    counted half (the mid-rank of a value inserted into the reference, scaled)."""
    ref = np.asarray(reference, dtype=float)
    ref = np.where(np.isnan(ref), -np.inf, ref)
    v = -np.inf if math.isnan(value) else value
    return float(((ref < v).sum() + 0.5 * (ref == v).sum()) / len(ref))
