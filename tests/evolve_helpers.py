"""A cheap deterministic fitness for search tests, importable by subprocesses."""
import hashlib
import time


def fake_fitness(text: str, seed: int, delay: float = 0.0) -> dict:
    time.sleep(delay)
    body = text.split("\n", 1)[1]     # the genes, not the genome's name
    h = int(hashlib.sha256(body.encode()).hexdigest()[:6], 16)
    return {"status": "ok", "fitness": (h % 1000) / 1000.0, "metrics": {"params": h % 5000}}


def _result(text: str, seed: int):
    from genelang.evolve.execution.evaluation import EvalResult
    return EvalResult.coerce(fake_fitness(text, seed))


def crash_on_seed_zero(request):
    """A pool runner that dies like a native crash for seed 0."""
    import os
    if request.seed == 0:
        os._exit(1)
    return _result(request.genome, request.seed)


def stall_on_seed_zero(request):
    """A pool runner that hangs for seed 0."""
    if request.seed == 0:
        time.sleep(600)
    return _result(request.genome, request.seed)


def report_pid_then_sleep(request):
    """A pool runner that leaves its worker's pid in the folder named by the request's genome, and idles."""
    import os
    from pathlib import Path

    from genelang.evolve.execution.evaluation import EvalResult
    Path(request.genome, str(os.getpid())).touch()
    time.sleep(request.seed)
    return EvalResult("ok", 0.0)


def report_device(request):
    """A pool runner that reports the device it was given and the GPU its process may see."""
    import os

    from genelang.evolve.execution.evaluation import EvalResult
    time.sleep(0.2)   # long enough that the pool starts every worker
    return EvalResult("ok", 0.0, metrics={"pid": os.getpid()},
                      reason=f"{request.context.device}|{os.environ.get('CUDA_VISIBLE_DEVICES', '')}")


def gpu_probe(request):
    """A Ray runner that reports when it ran, on which (logical) GPU, and the device it was given."""
    import ray

    from genelang.evolve.execution.evaluation import EvalResult
    start = time.time()
    time.sleep(1.0)
    return EvalResult("ok", 0.0, metrics={"start": start, "end": time.time()},
                      reason=f"{request.context.device}|{','.join(map(str, ray.get_gpu_ids()))}")
