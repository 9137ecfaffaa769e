"""Measurements: a module's forward time after warm-up, the median of repeats;
or every named part's time inside its network's forward (in context: caches
hold what the network's other layers left, as they do when it runs)."""
from __future__ import annotations

import time
from statistics import median
from typing import Callable

import torch
from torch import nn

from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.device import threads
from genelang.runtime.heap import keep_freed_memory


def _clock(cfg: LatencyConfig) -> Callable[[], float]:
    if cfg.clock == "wall":
        return time.perf_counter
    # CPU time of the process per thread: what a shared machine's other load does not inflate
    return lambda: time.process_time() / cfg.threads


def _sync(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def time_ms(module: nn.Module, input_shape: tuple[int, ...], cfg: LatencyConfig) -> float:
    """Milliseconds per forward pass of a batch of `cfg.batch` inputs of `input_shape`."""
    return time_parts(module, input_shape, {}, cfg)[""]


def time_parts(net: nn.Module, input_shape: tuple[int, ...], parts: dict[nn.Module, str],
               cfg: LatencyConfig) -> dict[str, float]:
    """Milliseconds of each part of `net` (module -> name) during `net`'s forward
    passes, and of the whole under the name ''."""
    keep_freed_memory()   # no page faults that depend on what the process allocated before (runtime/heap.py)
    device = torch.device(cfg.device)
    net = net.to(device).eval()
    x = torch.randn(cfg.batch, *input_shape, device=device)
    clock, sync = _clock(cfg), _sync(device)
    times: dict[str, list[float]] = {name: [] for name in ["", *parts.values()]}
    starts: dict[nn.Module, float] = {}

    def pre(module, _args):
        sync()
        starts[module] = clock()

    def post(module, _args, _out):
        sync()
        times[parts[module]].append(clock() - starts[module])

    with threads(cfg.threads), torch.inference_mode():
        for _ in range(cfg.warmup):
            net(x)
        hooks = [h for m in parts for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
        try:
            for _ in range(cfg.repeats):
                sync()
                t0 = clock()
                net(x)
                sync()
                times[""].append(clock() - t0)
        finally:
            for h in hooks:
                h.remove()
    return {name: 1000 * median(ts) for name, ts in times.items() if ts}
