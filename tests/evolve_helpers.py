"""A cheap deterministic fitness for search tests, importable by subprocesses."""
import hashlib
import time


def fake_fitness(text: str, seed: int, delay: float = 0.0) -> dict:
    time.sleep(delay)
    body = text.split("\n", 1)[1]     # the genes, not the genome's name
    h = int(hashlib.sha256(body.encode()).hexdigest()[:6], 16)
    return {"status": "ok", "fitness": (h % 1000) / 1000.0, "metrics": {"params": h % 5000}}


def crash_on_seed_zero(job, spec) -> dict:
    """A pool runner that dies like a native crash for seed 0."""
    import os
    text, seed = job
    if seed == 0:
        os._exit(1)
    return fake_fitness(text, seed)


def stall_on_seed_zero(job, spec) -> dict:
    """A pool runner that hangs for seed 0."""
    text, seed = job
    if seed == 0:
        time.sleep(600)
    return fake_fitness(text, seed)


def report_pid_then_sleep(job, spec) -> dict:
    """A pool runner that leaves its worker's pid in spec['_pids'] and idles."""
    import os
    from pathlib import Path
    Path(spec["_pids"], str(os.getpid())).touch()
    time.sleep(job[1])
    return {"status": "ok", "fitness": 0.0}
