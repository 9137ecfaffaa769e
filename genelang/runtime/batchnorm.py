"""Training-mode BatchNorm for channels_last CPU tensors, as accurate as the
default layout's kernel.

torch 2.14's native channels_last BatchNorm sums each channel's statistics
in one fp32 running sum over N·H·W elements: 100–3000× less accurate than the
default layout (docs/channels_last.md, defect 2). Here every per-channel sum
is torch's reduction kernel (cascade summation, vectorised along the channels
of a channels_last tensor), the variance is taken of centred values (two
passes, no E[x²]−E[x]² cancellation), and the normalisation itself is
torch's fused eval-mode kernel with those statistics. Forward and backward
match the default layout's errors against float64 (tests/test_batchnorm.py).

`accurate_batchnorm(net)` switches a network's BatchNorm2d modules to it in
place (same parameters, buffers and state-dict keys); `plain_batchnorm(net)`
switches them back, so what is saved, scripted or exported is torch's own.
"""
from __future__ import annotations

import torch
from torch import nn

CL = torch.channels_last


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether a 4-d tensor is laid out channels_last (and not also contiguous,
    as a tensor with one channel or a 1×1 map is in both)."""
    return x.is_contiguous(memory_format=CL) and not x.is_contiguous()


def _per_channel(t: torch.Tensor) -> torch.Tensor:
    return t.view(1, -1, 1, 1)


class _ChannelsLastBatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps: float):
        count = x.numel() // x.shape[1]
        mean = x.sum((0, 2, 3)) / count
        centred = x - _per_channel(mean)
        var = torch.mul(centred, centred).sum((0, 2, 3)) / count
        invstd = (var + eps).rsqrt()
        y = torch.batch_norm(x, weight, bias, mean, var, False, 0.0, eps, False)
        # the backward needs x only centred: keeping that instead of x spares it a pass
        ctx.save_for_backward(centred, weight, invstd)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, gy, _gmean, _gvar):
        centred, weight, invstd = ctx.saved_tensors
        count = centred.numel() // centred.shape[1]
        gy = gy.contiguous(memory_format=CL)
        sum_gy = gy.sum((0, 2, 3))
        sum_gy_xc = (gy * centred).sum((0, 2, 3))
        scale = invstd if weight is None else weight * invstd
        # dx = scale·(gy − mean(gy) − x̂·mean(gy·x̂)), x̂ = (x − mean)·invstd: two fused passes
        gx = torch.addcmul(_per_channel(-scale * sum_gy / count), centred,
                           _per_channel(-scale * invstd * invstd * sum_gy_xc / count))
        gx.addcmul_(gy, _per_channel(scale))
        gw = sum_gy_xc * invstd if weight is not None and ctx.needs_input_grad[1] else None
        gb = sum_gy if ctx.needs_input_grad[2] else None
        return gx, gw, gb, None


class AccurateBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d whose training-mode pass on a channels_last input is
    `_ChannelsLastBatchNorm`; anything else (eval mode, the default layout,
    no batch statistics) is torch's own."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and x.dim() == 4 and x.shape[1] > 1 and is_channels_last(x)
                and x.dtype in (torch.float32, torch.float64)):
            return super().forward(x)
        y, mean, var = _ChannelsLastBatchNorm.apply(x, self.weight, self.bias, self.eps)
        if self.track_running_stats and self.running_mean is not None:
            self._update_running(mean, var, x.numel() // x.shape[1])
        return y

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
        # as torch: an exponential (or cumulative, momentum None) average of the
        # batch mean and the unbiased batch variance
        self.num_batches_tracked.add_(1)
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(var * (count / max(count - 1, 1)), momentum)


def accurate_batchnorm(net: nn.Module) -> nn.Module:
    """Switch every plain BatchNorm2d of `net` to AccurateBatchNorm2d, in place."""
    for m in net.modules():
        if type(m) is nn.BatchNorm2d:
            m.__class__ = AccurateBatchNorm2d
    return net


def plain_batchnorm(net: nn.Module) -> nn.Module:
    """Undo `accurate_batchnorm`, in place."""
    for m in net.modules():
        if type(m) is AccurateBatchNorm2d:
            m.__class__ = nn.BatchNorm2d
    return net
