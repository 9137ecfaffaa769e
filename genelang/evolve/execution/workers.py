"""What a worker does around each candidate, kept apart from the backends so a
worker process imports little before it knows its device: exit with the
search, take a device slot, and hand the candidate its device."""
from __future__ import annotations

import os
import time
from typing import Callable

from genelang.evolve.execution.evaluation import EvalRequest, EvalResult
from genelang.runtime.devices import is_gpu

Run = Callable[[EvalRequest], EvalResult]     # a top-level function the workers import


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """Worker initializer: exit when the search process is gone. A killed
    search (SIGKILL, SIGTERM, a closed terminal) cannot shut its pool down,
    and the workers' queues never report EOF (each holds both ends), so
    without this they would idle forever holding their memory."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_PINNED: str | None = None     # this worker's device, as the candidate's torch sees it


def init_worker(parent: int, devices) -> None:
    """Worker initializer: exit with the search, and take one device slot.

    A GPU worker sees only its own GPU (CUDA_VISIBLE_DEVICES, set before
    anything in the process initialises CUDA), where the candidate finds it
    as cuda:0. Pinning by torch.cuda.set_device alone would leave every GPU
    visible, and a library call without a device (a cache flush, a cuDNN
    handle) would open a context of several hundred MiB on GPU 0 from every
    worker; masking makes that impossible, and it is how Ray places its
    tasks, so a candidate runs the same under both backends."""
    global _PINNED
    _exit_with_parent(parent)
    if devices is None:
        return
    device = devices.get()
    if is_gpu(device):
        os.environ["CUDA_VISIBLE_DEVICES"] = device.partition(":")[2]
        _PINNED = "cuda:0"
    else:
        _PINNED = device


def on_pinned_device(run: Run, request: EvalRequest) -> EvalResult:
    return run(request.with_context(device=_PINNED) if _PINNED else request)


def call(run: Run, request: EvalRequest) -> EvalResult:
    return run(request)


def on_ray_gpu(run: Run, request: EvalRequest) -> EvalResult:
    """A Ray task on its share of a GPU: Ray has set CUDA_VISIBLE_DEVICES to the
    GPU it chose, which the candidate sees as cuda:0."""
    import ray
    return run(request.with_context(device="cuda:0" if ray.get_gpu_ids() else "cpu"))
