"""Which table a measurement belongs to: device, torch version, threads, batch."""
from __future__ import annotations

import contextlib
import platform
from dataclasses import dataclass
from functools import lru_cache

import torch

from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.heap import heap_state


@lru_cache(maxsize=1)
def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass(frozen=True)
class DeviceKey:
    device: str       # "cpu: <model name>" or "cuda: <device name>"
    torch: str
    threads: int
    batch: int
    clock: str = "wall"
    heap: str = "steady"   # the C heap while timing (heap.py): a table timed with glibc's defaults is not reused

    def __str__(self) -> str:
        return (f"{self.device} | torch {self.torch} | threads {self.threads} | batch {self.batch} | {self.clock}"
                f" | heap {self.heap}")


def device_key(cfg: LatencyConfig) -> DeviceKey:
    if cfg.device == "cpu":
        name = f"cpu: {cpu_name()}"
    else:
        if not torch.cuda.is_available():
            raise LookupError(f"latency on {cfg.device}: no CUDA device here")
        name = f"cuda: {torch.cuda.get_device_name(torch.device(cfg.device))}"
    return DeviceKey(name, torch.__version__, cfg.threads, cfg.batch, cfg.clock, heap_state())


@contextlib.contextmanager
def threads(n: int):
    """torch's intra-op threads set to `n` for the block, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
