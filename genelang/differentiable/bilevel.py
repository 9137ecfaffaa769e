"""One architecture step of the bilevel problem min_α L_val(w*(α), α),
w*(α) = argmin_w L_train(w, α), on a batch of each half of the training split.

- first order (DARTS-1, NNI, NASLib): ∇_α L_val(w, α), the weights taken as
  they are;
- second order (DARTS-2, Archai): one virtual SGD step w' = w − ξ(∇_w
  L_train + weight decay·w + momentum·buffer), then ∇_α L_val(w', α) −
  ξ ∇²_{α,w} L_train(w, α) ∇_{w'} L_val(w', α), the Hessian-vector product
  by central differences at w ± ε∇_{w'}L_val, ε = 0.01 / ‖∇_{w'}L_val‖.

Both leave the gradient in α's `.grad` (plus `penalty()`'s: terms of α alone,
the hardware loss and β-DARTS's regulariser) for the caller's optimizer.
`sample()` recomputes the architecture sample from α on each call (with the
step's noise fixed), so every forward differentiates through it.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from genelang.differentiable.relaxation import ArchSample

Batch = tuple[torch.Tensor, torch.Tensor]
SampleFn = Callable[[], ArchSample]
PenaltyFn = Callable[[], torch.Tensor | float]


def _loss(net: nn.Module, batch: Batch, sample: ArchSample, params: dict | None = None) -> torch.Tensor:
    x, y = batch
    out = net(x, sample) if params is None else functional_call(net, params, (x, sample))
    return F.cross_entropy(out, y)


def _set_grads(params: list[torch.Tensor], grads) -> None:
    for p, g in zip(params, grads):
        p.grad = torch.zeros_like(p) if g is None else g.detach()


def first_order(net: nn.Module, alphas: list[torch.Tensor], sample: SampleFn, val: Batch,
                penalty: PenaltyFn) -> torch.Tensor:
    loss = _loss(net, val, sample())
    _set_grads(alphas, torch.autograd.grad(loss + penalty(), alphas, allow_unused=True))
    return loss.detach()


def virtual_weights(net: nn.Module, w_opt: torch.optim.SGD, sample: SampleFn, train: Batch,
                    xi: float) -> dict[str, torch.Tensor]:
    """w' after one SGD step on L_train, as `w_opt` would take it (momentum, weight decay), not applied."""
    group = w_opt.param_groups[0]
    names, ws = zip(*[(n, p) for n, p in net.named_parameters() if p.requires_grad])
    grads = torch.autograd.grad(_loss(net, train, sample()), ws, allow_unused=True)
    out = {}
    with torch.no_grad():
        for n, w, g in zip(names, ws, grads):
            d = (torch.zeros_like(w) if g is None else g) + group["weight_decay"] * w
            buf = w_opt.state.get(w, {}).get("momentum_buffer")
            if buf is not None:
                d = d + group["momentum"] * buf
            out[n] = (w - xi * d).requires_grad_()
    return out


def second_order(net: nn.Module, alphas: list[torch.Tensor], sample: SampleFn, train: Batch, val: Batch,
                 w_opt: torch.optim.SGD, xi: float, penalty: PenaltyFn, hvp_scale: float = 0.01) -> torch.Tensor:
    """`hvp_scale`: the finite difference's step in w, ε·‖v‖ (DARTS and Archai: 0.01)."""
    unrolled = virtual_weights(net, w_opt, sample, train, xi)
    loss = _loss(net, val, sample(), unrolled)
    ws = list(unrolled.values())
    grads = torch.autograd.grad(loss, [*alphas, *ws], allow_unused=True)
    d_alpha = [torch.zeros_like(a) if g is None else g for a, g in zip(alphas, grads)]
    d_w = [torch.zeros_like(w) if g is None else g for w, g in zip(ws, grads[len(alphas):])]
    hvp = _hessian_vector(net, alphas, sample, train, d_w, hvp_scale)
    pen = penalty()
    direct = torch.autograd.grad(pen, alphas, allow_unused=True) if torch.is_tensor(pen) and pen.requires_grad else ()
    for i, a in enumerate(alphas):
        g = d_alpha[i] - xi * hvp[i]
        if direct and direct[i] is not None:
            g = g + direct[i]
        a.grad = g.detach()
    return loss.detach()


def _hessian_vector(net: nn.Module, alphas: list[torch.Tensor], sample: SampleFn, train: Batch,
                    v: list[torch.Tensor], scale: float) -> list[torch.Tensor]:
    """∇²_{α,w} L_train(w, α) · v by central differences in w."""
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    eps = scale / torch.cat([t.flatten() for t in v]).norm().clamp_min(1e-12)
    grads = []
    for sign in (1.0, -1.0):
        with torch.no_grad():
            moved = {n: p + sign * eps * d for (n, p), d in zip(named, v)}
        g = torch.autograd.grad(_loss(net, train, sample(), moved), alphas, allow_unused=True)
        grads.append([torch.zeros_like(a) if x is None else x for a, x in zip(alphas, g)])
    return [(gp - gm) / (2 * eps) for gp, gm in zip(*grads)]
