"""Minimal reproducer: torch's CPU depthwise convolution with dilation 2,
stride 1, in bf16 and channels_last, returns a wrong weight gradient
(garbage: errors ~1 relative, sometimes 1e30+ or inf, changing from call
to call). The same call in fp32, or bf16 in the default layout, is right.
Torch alone; no genelang.

Run: python bench/repro_channels_last.py   (exit 1 while the bug is present)
"""
from __future__ import annotations

import sys

import torch
import torch.nn.functional as F


def weight_grad(x: torch.Tensor, w: torch.Tensor, grad_out: torch.Tensor, dtype, channels_last: bool):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = x.to(dtype).contiguous(memory_format=fmt)
    w = w.to(dtype).contiguous(memory_format=fmt).detach().clone(memory_format=torch.preserve_format)
    w.requires_grad_()
    out = F.conv2d(x, w, None, stride=1, padding=2, dilation=2, groups=x.shape[1])   # DARTS's dil_conv_3x3
    out.backward(grad_out.to(dtype).contiguous(memory_format=fmt))
    return w.grad.double()


def main() -> int:
    torch.manual_seed(0)
    C = 16
    x = torch.randn(32, C, 32, 32)          # a DARTS C=16 cell on CIFAR-sized input
    w = torch.randn(C, 1, 3, 3)
    g = torch.randn(32, C, 32, 32)
    ref = weight_grad(x, w, g, torch.float64, False)
    print(f"torch {torch.__version__}; depthwise 3x3 conv, dilation 2, C={C}, 32x32, batch 32: "
          "weight-gradient error relative to float64")
    bad = False
    for dtype in (torch.float32, torch.bfloat16):
        for cl in (False, True):
            errs = [((weight_grad(x, w, g, dtype, cl) - ref).abs().max() / ref.abs().max()).item()
                    for _ in range(3)]
            wrong = max(errs) > 0.05
            bad |= wrong
            print(f"  {str(dtype)[6:]:9} {'channels_last' if cl else 'default layout':15} "
                  f"{'  '.join(f'{e:.1e}' for e in errs)}{'   <-- WRONG' if wrong else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
