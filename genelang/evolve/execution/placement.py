"""Which device each worker of a search uses.

`execution.devices` names the devices (`cpu`, `auto`, GPU indices) and
`execution.per_device` how many candidates share one GPU at once. With GPUs
the pool has len(devices) × per_device workers unless `execution.workers`
says otherwise, and worker slot k uses devices[k mod len(devices)] (round
robin: a search with fewer candidates than slots still spreads over every
GPU, and each GPU gets per_device workers).

Default per_device on a GPU: 4. genelang's candidates are small (10k–300k
parameters); training one at batch 128 holds well under 2 GiB of activations
and leaves most of a GPU's arithmetic idle between its kernel launches, so
four share one GPU of 16 GiB or more without running out of memory. Larger
models (a DARTS network at C=36) want per_device 1 or 2. On the CPU,
`execution.workers` alone says how many candidates run at once."""
from __future__ import annotations

from dataclasses import dataclass

from genelang.runtime.devices import is_gpu, resolve_devices

DEFAULT_PER_DEVICE = 4


@dataclass(frozen=True)
class Placement:
    devices: tuple[str, ...]     # ("cpu",) or ("cuda:0", "cuda:1", ...)
    per_device: int              # candidates sharing one device at once
    workers: int                 # worker processes (0: the search's own process)

    @property
    def gpus(self) -> bool:
        return is_gpu(self.devices[0])

    def slots(self) -> list[str]:
        """The device of each worker slot."""
        return assign(self.devices, self.workers)


def assign(devices: tuple[str, ...] | list[str], workers: int) -> list[str]:
    """Worker slot k -> devices[k mod len(devices)]: [cuda:0, cuda:1] with 4
    workers gives cuda:0, cuda:1, cuda:0, cuda:1."""
    return [devices[k % len(devices)] for k in range(workers)]


def placement(execution, gpus: int | None = None) -> Placement:
    """The placement a spec's `execution` section asks for on this machine
    (`gpus`: how many GPUs it has; default: what torch sees)."""
    devices = resolve_devices(execution.devices, gpus)
    if not is_gpu(devices[0]):
        return Placement(("cpu",), 1, execution.workers)
    per = execution.per_device or DEFAULT_PER_DEVICE
    return Placement(tuple(devices), per, execution.workers or len(devices) * per)
