"""Where candidates are evaluated: in this process, a local process pool, or
Ray. One scheduling loop (`Backend.map`) serves all three; an `Executor`
says only how to start a request, wait, and cancel. The loop stores each
result the moment it arrives (`on_result`) and returns results in request order.

Guarantees, whatever the executor:
- never more requests in flight than slots, so each candidate's clock is its own;
- a candidate that overruns `timeout` fails alone with "timed out"; the
  others go on. Only a request that may be a fresh worker's first (the
  executor says which: `fresh()`) gets `grace` on top, for the worker's
  start-up and imports; every later candidate has `timeout` alone;
- a worker that dies fails only its own candidate. Where one death takes
  every worker down (a process pool), the candidates in flight run again one
  at a time, and only one that kills a worker on its own is recorded as failed.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import time
from collections import deque
from typing import Any, Callable, Protocol

from genelang.evolve.execution.evaluation import EvalRequest, EvalResult
from genelang.evolve.execution.fitness import evaluate
from genelang.evolve.execution.placement import DEFAULT_PER_DEVICE, placement
from genelang.evolve.execution.workers import Run, call, init_worker, on_pinned_device, on_ray_gpu

OnResult = Callable[[int, EvalResult], None]


class Executor(Protocol):
    slots: int
    isolates_crashes: bool          # a dead worker loses only its own request

    def submit(self, run: Run, request: EvalRequest) -> Any: ...
    def fresh(self) -> bool: ...                       # the request just submitted may start a fresh worker
    def wait(self, handles: list, timeout: float | None) -> list: ...
    def result(self, handle) -> EvalResult: ...        # raises when the worker died
    def cancel(self, handles: list) -> bool: ...       # True: every other request in flight was lost too
    def reset(self) -> None: ...                       # after a crash that took every worker down
    def close(self) -> None: ...


class Backend:
    def __init__(self, executor: Executor, run: Run = evaluate, timeout: float | None = None,
                 grace: float = 30.0):
        self.executor, self.run, self.timeout, self.grace = executor, run, timeout, grace

    def map(self, requests: list[EvalRequest], on_result: OnResult) -> list[EvalResult]:
        results: list[EvalResult | None] = [None] * len(requests)
        queue = deque(range(len(requests)))
        alone: set[int] = set()                 # suspects of a crash: run one at a time
        flight: dict[Any, tuple[int, float, float | None]] = {}     # handle -> (request, start, limit)
        timed = self.timeout is not None
        ex = self.executor

        def finish(i: int, result: EvalResult) -> None:
            results[i] = result
            on_result(i, result)

        def requeue(indices) -> None:
            queue.extendleft(sorted(indices, reverse=True))

        while queue or flight:
            while queue and len(flight) < ex.slots and not any(i in alone for i, *_ in flight.values()):
                if queue[0] in alone and flight:
                    break
                i = queue.popleft()
                handle = ex.submit(self.run, requests[i])
                limit = self.timeout + (self.grace if ex.fresh() else 0.0) if timed else None
                flight[handle] = (i, time.monotonic(), limit)
            crashed: list[int] = []
            for h in ex.wait(list(flight), 1.0 if timed else None):
                i, *_ = flight.pop(h)
                try:
                    finish(i, ex.result(h))
                except Exception as err:   # the worker died under it
                    if ex.isolates_crashes or i in alone:
                        finish(i, EvalResult.failed(f"worker died: {type(err).__name__}: {err}"))
                    else:
                        crashed.append(i)
            if crashed:   # every worker went down: everything in flight is a suspect
                crashed += [i for i, *_ in flight.values()]
                flight.clear()
                ex.reset()
                alone.update(crashed)
                requeue(crashed)
                continue
            now = time.monotonic()
            late = [h for h, (_, t0, limit) in flight.items() if limit is not None and now - t0 > limit]
            if late:
                for h in late:
                    finish(flight.pop(h)[0], EvalResult.failed(f"timed out after {self.timeout:g} s"))
                if ex.cancel(late):
                    requeue(i for i, *_ in flight.values())
                    flight.clear()
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self.executor.close()


class InProcessExecutor:
    """Runs each request at submit, in this process (no timeout, no isolation:
    for notebooks, tests and debugging)."""
    slots, isolates_crashes = 1, True

    def submit(self, run: Run, request: EvalRequest) -> cf.Future:
        f: cf.Future = cf.Future()
        f.set_result(run(request))
        return f

    def fresh(self):
        return False

    def wait(self, handles, timeout):
        return handles

    def result(self, handle):
        return handle.result()

    def cancel(self, handles):
        return False

    def reset(self):
        pass

    def close(self):
        pass


class PoolExecutor:
    """Spawned worker processes (safe with torch's thread pools). One dead
    worker breaks the whole pool, and a stuck one can only be stopped by
    killing the pool. With `devices` (one per worker slot, evolve/execution/placement.py)
    each worker is pinned to its own for its life."""
    isolates_crashes = False

    def __init__(self, workers: int, devices: list[str] | None = None):
        self.slots, self.devices = workers, devices
        self.pool = self._new_pool()

    def _new_pool(self):
        # a new pool starts at most `slots` processes, each for one of the first
        # `slots` requests submitted to it (it spawns a worker when none is idle)
        self._fresh = self.slots
        ctx = mp.get_context("spawn")
        slots = None
        if self.devices:   # one token per worker: a pool starts each of its processes once
            slots = ctx.Queue()
            for device in self.devices:
                slots.put(device)
        return cf.ProcessPoolExecutor(self.slots, mp_context=ctx, initializer=init_worker,
                                      initargs=(os.getpid(), slots))

    def submit(self, run, request):
        try:
            return self.pool.submit(on_pinned_device, run, request)
        except cf.process.BrokenProcessPool:   # a worker died after the last batch
            self.reset()
            return self.pool.submit(on_pinned_device, run, request)

    def fresh(self):
        self._fresh -= 1
        return self._fresh >= 0

    def wait(self, handles, timeout):
        return list(cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)[0])

    def result(self, handle):
        return handle.result()

    def cancel(self, handles):
        self.reset()
        return True

    def reset(self):
        for p in list(getattr(self.pool, "_processes", {}).values()):
            p.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Ray tasks, at most `slots` in flight (the workers asked for, or the
    cluster's CPUs); a task is cancelled alone, a dead one fails alone.

    With `per_device` (GPUs wanted, and the cluster has some) each task asks
    for 1/per_device of a GPU and one CPU, so Ray packs per_device candidates
    on a GPU, and the slots are capped at what the cluster can run at once
    (its GPUs × per_device, and its CPUs): a queued task's clock would
    otherwise run before it starts. Ray gives each GPU task a fresh worker
    process (it does not reuse them, so a candidate's GPU memory goes back
    with its process)."""
    isolates_crashes = True

    def __init__(self, address: str | None, workers: int, per_device: int | None = None):
        try:
            import ray
        except ImportError:
            from genelang.errors import SpecError
            raise SpecError.at("spec", "execution.backend: ray is not installed", "execution.backend",
                               hint="pip install 'genelang[ray]'") from None
        self.ray = ray
        if not ray.is_initialized():
            kwargs = {"address": address} if address else {"num_cpus": max(1, workers or 1)}
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        held = ray.cluster_resources()
        cpus = max(1, int(held.get("CPU", 1)))
        self.gpu_share = 1 / per_device if per_device and held.get("GPU", 0) > 0 else None
        self.slots = workers or cpus
        if self.gpu_share:
            self.slots = min(self.slots, cpus, int(held["GPU"] * per_device))
        self._remote: Any = None
        self._fresh = self.slots     # CPU tasks: Ray reuses its worker processes

    def submit(self, run, request):
        if self._remote is None:
            gpus = {"num_gpus": self.gpu_share} if self.gpu_share else {}
            self._remote = self.ray.remote(num_cpus=1, **gpus)(on_ray_gpu if self.gpu_share else call)
        return self._remote.remote(run, request)

    def fresh(self):
        # Ray gives each GPU task a process of its own, which starts afresh
        self._fresh -= 1
        return bool(self.gpu_share) or self._fresh >= 0

    def wait(self, handles, timeout):
        return self.ray.wait(handles, num_returns=1, timeout=timeout)[0]

    def result(self, handle):
        return self.ray.get(handle)

    def cancel(self, handles):
        for h in handles:
            self.ray.cancel(h, force=True)
        return False

    def reset(self):
        pass

    def close(self):
        pass


def make_backend(spec, run: Run | None = None) -> Backend:
    ex = spec.execution
    if ex.backend == "ray":
        per_device = None if ex.devices == "cpu" else ex.per_device or DEFAULT_PER_DEVICE
        executor: Executor = RayExecutor(ex.address, ex.workers, per_device)
    else:
        place = placement(ex)
        if place.workers <= 0:
            executor = InProcessExecutor()
        else:
            executor = PoolExecutor(place.workers, place.slots() if place.gpus else None)
    return Backend(executor, run or evaluate, spec.fitness.timeout)


def worker_threads(spec) -> int:
    """Torch threads per worker: the spec's, else the cores shared among the workers
    (0 in this process: torch's own default)."""
    ex = spec.execution
    if ex.threads:
        return ex.threads
    workers = ex.workers if ex.backend == "ray" else placement(ex).workers
    if ex.backend == "local" and workers <= 0:
        return 0
    return max(1, (os.cpu_count() or 1) // max(1, workers or 1))
