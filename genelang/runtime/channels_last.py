"""Training in channels_last on the CPU, around torch 2.14's oneDNN defects.

channels_last makes small candidates train 1.6-1.8x faster here (oneDNN's
convolution, pooling and elementwise kernels; bench/RESULTS.md), but three
of its kernels are wrong there (docs/channels_last.md, numbered as there):

1. in bf16, the weight gradients of dilated depthwise convs are garbage: such
   networks do not train in channels_last with bf16 on the CPU;
2. training-mode BatchNorm is 100-3000x less precise: it trains as
   `runtime/batchnorm.AccurateBatchNorm2d`;
3. the weight gradient of a strided 1x1 convolution (groups 1) writes past
   its buffers when more than one thread runs and the batch is odd: heap
   corruption ("double free or corruption"), found with C = 2..12 channels.
   Such convs (DARTS's FactorizedReduce, a reduction cell's `pw`) run here
   as a 1x1 convolution of the subsampled input, the same function of the
   same weights (`SubsampledPointwiseConv2d`).

`enter(net)` switches a network to this path in place and `leave(net)` puts
torch's own modules back (same parameters, buffers and state-dict keys), so
what is saved, scripted or exported is unchanged.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genelang.runtime.batchnorm import accurate_batchnorm, is_channels_last, plain_batchnorm

CL = torch.channels_last


class _Subsample(torch.autograd.Function):
    """`x[:, :, ::sh, ::sw]` whose gradient keeps x's memory format: a slice's
    own backward scatters into a default-layout zero tensor, and the ReLU
    backward before it then mixes layouts (~30x slower on the CPU)."""

    @staticmethod
    def forward(ctx, x, sh: int, sw: int):
        ctx.shape, ctx.stride = x.shape, (sh, sw)
        ctx.fmt = CL if is_channels_last(x) else torch.contiguous_format
        return x[:, :, ::sh, ::sw].contiguous(memory_format=ctx.fmt)

    @staticmethod
    def backward(ctx, gy):
        sh, sw = ctx.stride
        gx = torch.empty(ctx.shape, dtype=gy.dtype, device=gy.device, memory_format=ctx.fmt).zero_()
        gx[:, :, ::sh, ::sw] = gy
        return gx, None, None


class SubsampledPointwiseConv2d(nn.Conv2d):
    """A 1x1, unpadded, strided nn.Conv2d computed as a stride-1 1x1 conv of
    `x[:, :, ::s, ::s]`: the same output and gradients, without oneDNN's
    strided 1x1 weight-gradient kernel (defect 3 above)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sh, sw = self.stride
        return F.conv2d(_Subsample.apply(x, sh, sw), self.weight, self.bias, 1, 0, self.dilation, self.groups)


def _strided_pointwise(m: nn.Module) -> bool:
    return (type(m) is nn.Conv2d and m.kernel_size == (1, 1) and m.stride != (1, 1)
            and m.padding in ((0, 0), "valid") and m.padding_mode == "zeros")


def channels_last_safe(net: nn.Module, bf16_cpu: bool = False) -> bool:
    """Whether `net` may train in channels_last: with bf16 on the CPU, not with
    a dilated depthwise conv (defect 1); and not with convs narrower than 4
    channels, where the first crash (defect 3) was seen, a hunt found fp32
    gradients off by 2e-2 at 3 channels, and the layout was never measured
    faster."""
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    if not convs or min(m.out_channels for m in convs) < 4:
        return False
    return not (bf16_cpu and any(_dilated_depthwise(m) for m in convs))


def _dilated_depthwise(conv: nn.Conv2d) -> bool:
    return conv.groups > 1 and conv.groups == conv.in_channels and max(conv.dilation) > 1


def enter(net: nn.Module) -> nn.Module:
    """Put `net` in channels_last with the modules that train correctly there, in place."""
    net.to(memory_format=CL)
    for m in net.modules():
        if _strided_pointwise(m):
            m.__class__ = SubsampledPointwiseConv2d
    return accurate_batchnorm(net)


def leave(net: nn.Module) -> nn.Module:
    """Undo `enter`'s module switches, in place (the weights keep their layout)."""
    for m in net.modules():
        if type(m) is SubsampledPointwiseConv2d:
            m.__class__ = nn.Conv2d
    return plain_batchnorm(net)
