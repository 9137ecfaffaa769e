"""Batched image augmentation on in-memory tensors: random pad-crop,
horizontal flip and cutout, applied to a whole minibatch at once (no
per-sample PIL work, no DataLoader workers), on the device the batch is on:
on a GPU the random offsets, flips and holes are drawn there too.

The images are already normalised, so padding and cutout fill with 0 — the
training-set mean — where torchvision pads the raw image with black; the
difference is a shift of the fill value only. Randomness comes from torch's
global generator of the batch's device, which `train_genome` seeds, so a run
is reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augment:
    pad: int = 0          # random crop after zero-padding each side by this much
    flip: bool = False    # horizontal flip with probability 1/2
    cutout: int = 0       # side of a square zeroed at a random centre (DeVries & Taylor 2017)

    def __bool__(self) -> bool:
        return bool(self.pad or self.flip or self.cutout)

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        x, *rest = batch
        if self.pad:
            x = random_crop(x, self.pad)
        if self.flip:
            flip = torch.rand(len(x), device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        if self.cutout:
            x = cutout(x, self.cutout)
        return (x, *rest)


def random_crop(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Each image cropped back to its size at its own offset in the padded image."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (b,), device=x.device)
    ox = torch.randint(0, 2 * pad + 1, (b,), device=x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, :, None]          # b×h×1
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, :]          # b×1×w
    out = padded[torch.arange(b, device=x.device)[:, None, None], :, rows, cols]  # b×h×w×c
    return out.permute(0, 3, 1, 2).contiguous()


def cutout(x: torch.Tensor, length: int) -> torch.Tensor:
    """Zero a length×length square per image; its centre may lie near an edge,
    so the square is clipped there; rows and columns [c − length//2, c + length//2)
    as in the reference implementation."""
    b, _, h, w = x.shape
    cy = torch.randint(0, h, (b, 1, 1), device=x.device)
    cx = torch.randint(0, w, (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    half = length // 2
    hole = (ys >= cy - half) & (ys < cy + half) & (xs >= cx - half) & (xs < cx + half)
    return x * (~hole)[:, None].to(x.dtype)
