"""BatchNorm recalibration (SPOS, NNI): a path's blocks saw other paths'
activations while the supernet trained, so their running statistics are
recomputed on the path itself before it is scored."""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn


@torch.no_grad()
def recalibrate_bn(net: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """Reset the running statistics of every BatchNorm in `net`, average them
    over `batches` (cumulatively: momentum None) in training mode, and return
    `net` in eval mode. Parameters and other buffers do not change."""
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    try:
        for x in batches:
            net(x)
    finally:
        for m, momentum in zip(bns, momenta):
            m.momentum = momentum
        net.eval()
    return net
