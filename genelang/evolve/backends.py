"""Where candidates are evaluated: in this process, a local process pool, or
Ray. Each backend calls `on_result(index, result)` as soon as a candidate
finishes (so it is stored at once) and returns the results in job order."""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import socket
import time
from collections import deque
from typing import Callable

from genelang.evolve.fitness import evaluate_candidate

Job = tuple[str, int]            # (genome text, seed)
OnResult = Callable[[int, dict], None]


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _run(job: Job, spec: dict) -> dict:
    out = evaluate_candidate(job[0], spec, job[1])
    out["worker"] = _worker_name()
    return out


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


class InProcess:
    def __init__(self, spec: dict):
        self.spec = dict(spec, _threads=0)

    def map(self, jobs: list[Job], on_result: OnResult) -> list[dict]:
        results = []
        for i, job in enumerate(jobs):
            r = _run(job, self.spec)
            on_result(i, r)
            results.append(r)
        return results

    def close(self) -> None:
        pass


class LocalPool:
    """A pool of worker processes (spawned: safe with torch's thread pools),
    one torch thread each, never given more candidates than it has workers,
    so every candidate in flight is running and its clock is its own.

    A candidate that overruns `timeout` (plus `grace` for a fresh worker's
    imports) is recorded as failed and the pool replaced; the others in flight
    start again on the new pool. When a worker dies (a native crash, out of
    memory) the pool cannot say whose candidate killed it, so each candidate
    that was in flight runs again alone: only one that kills a worker on its
    own is recorded as failed."""

    def __init__(self, spec: dict, workers: int, timeout: float | None, run: Callable = _run,
                 grace: float = 30.0):
        self.spec, self.workers, self.timeout, self.grace = dict(spec, _threads=1), workers, timeout, grace
        self.run = run   # a top-level function (job, spec) -> result; the workers import it
        self.pool = self._new_pool()

    def _new_pool(self):
        return cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                      initializer=_exit_with_parent, initargs=(os.getpid(),))

    def _submit(self, job: Job) -> cf.Future:
        try:
            return self.pool.submit(self.run, job, self.spec)
        except cf.process.BrokenProcessPool:   # a worker died after the last batch
            self._kill()
            return self.pool.submit(self.run, job, self.spec)

    def map(self, jobs: list[Job], on_result: OnResult) -> list[dict]:
        results: list[dict | None] = [None] * len(jobs)
        queue = deque(range(len(jobs)))
        alone: set[int] = set()                        # suspects of a crash: run one at a time
        flight: dict[cf.Future, tuple[int, float]] = {}
        limit = None if self.timeout is None else self.timeout + self.grace

        def finish(i: int, result: dict) -> None:
            results[i] = result
            on_result(i, result)

        while queue or flight:
            while queue and len(flight) < self.workers and not any(i in alone for i, _ in flight.values()):
                if queue[0] in alone and flight:
                    break
                i = queue.popleft()
                flight[self._submit(jobs[i])] = (i, time.monotonic())
            done, _ = cf.wait(flight, timeout=None if limit is None else 1.0, return_when=cf.FIRST_COMPLETED)
            crashed: list[int] = []
            for f in done:
                i, _ = flight.pop(f)
                try:
                    finish(i, f.result())
                except Exception as err:   # the worker process died
                    if i in alone:
                        finish(i, {"status": "failed", "fitness": None,
                                   "reason": f"worker died: {type(err).__name__}: {err}"[:500]})
                    else:
                        crashed.append(i)
            if crashed:   # the pool is unusable: everything in flight is a suspect
                crashed += [i for i, _ in flight.values()]
                flight.clear()
                self._kill()
                alone.update(crashed)
                queue.extendleft(sorted(crashed, reverse=True))
                continue
            now = time.monotonic()
            late = [f for f, (_, t0) in flight.items() if limit is not None and now - t0 > limit]
            if late:
                for f in late:
                    finish(flight.pop(f)[0], {"status": "failed", "fitness": None,
                                              "reason": f"timed out after {self.timeout:g} s", "worker": "pool"})
                queue.extendleft(sorted((i for i, _ in flight.values()), reverse=True))
                flight.clear()
                self._kill()
        return results  # type: ignore[return-value]

    def _kill(self) -> None:
        for p in list(getattr(self.pool, "_processes", {}).values()):
            p.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    """Candidates as Ray tasks, at most `slots` in flight (the workers asked
    for, or the cluster's CPUs), so each task's clock starts when it can run:
    one that overruns `timeout` plus `grace` is cancelled and recorded as
    failed while the others go on."""

    def __init__(self, spec: dict, address: str | None, timeout: float | None, workers: int,
                 run: Callable = _run, grace: float = 30.0):
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
        self.remote = ray.remote(num_cpus=1)(run)
        self.spec, self.timeout, self.grace = dict(spec, _threads=1), timeout, grace
        self.slots = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def map(self, jobs: list[Job], on_result: OnResult) -> list[dict]:
        results: list[dict | None] = [None] * len(jobs)
        queue = deque(range(len(jobs)))
        flight: dict = {}                     # object ref -> (job index, submitted at)
        limit = None if self.timeout is None else self.timeout + self.grace

        def finish(i: int, result: dict) -> None:
            results[i] = result
            on_result(i, result)

        while queue or flight:
            while queue and len(flight) < self.slots:
                i = queue.popleft()
                flight[self.remote.remote(jobs[i], self.spec)] = (i, time.monotonic())
            done, _ = self.ray.wait(list(flight), num_returns=1, timeout=None if limit is None else 1.0)
            for ref in done:
                i, _ = flight.pop(ref)
                try:
                    finish(i, self.ray.get(ref))
                except Exception as err:   # the task or its worker died
                    finish(i, {"status": "failed", "fitness": None, "reason": f"ray: {err}"[:500]})
            now = time.monotonic()
            for ref, (i, t0) in list(flight.items()):
                if limit is not None and now - t0 > limit:
                    self.ray.cancel(ref, force=True)
                    del flight[ref]
                    finish(i, {"status": "failed", "fitness": None,
                               "reason": f"timed out after {self.timeout:g} s", "worker": "ray"})
        return results  # type: ignore[return-value]

    def close(self) -> None:
        pass


def make_backend(spec) -> InProcess | LocalPool | RayBackend:
    data = spec.model_dump()
    ex = spec.execution
    if ex.backend == "ray":
        return RayBackend(data, ex.address, spec.fitness.timeout, ex.workers)
    if ex.workers <= 0:
        return InProcess(data)
    return LocalPool(data, ex.workers, spec.fitness.timeout)
