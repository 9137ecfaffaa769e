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


def search_counting_builds(spec, monkeypatch):
    """Run `spec`'s search, noting the phenotype of every network built:
    (infeasible rows, ok rows, phenotypes built) — for limits that must refuse
    a candidate before anything is built."""
    from genelang.compiler.dag import phenotype_hash
    from genelang.evolve.run.runs import load_run
    from genelang.evolve.search import run_search
    from genelang.runtime import models
    built: list[str] = []
    make_model = models.make_model

    def counting(genome, task, model):
        built.append(phenotype_hash(genome))
        return make_model(genome, task, model)

    monkeypatch.setattr(models, "make_model", counting)
    run_search(spec, preflight=False)
    rows = load_run(spec.run_dir()).evaluations
    return rows[rows.status == "infeasible"], rows[rows.status == "ok"], built


ROOT = __import__("pathlib").Path(__file__).parents[1]


def evolve_cli(spec: dict, path):
    """Write `spec` to `path` and run `genelang evolve --json` on it in a fresh
    interpreter (plugins named in the spec load there); (run_dir, rows of
    status, genome, metrics JSON). The command must succeed."""
    import json
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    import yaml
    path.write_text(yaml.safe_dump(spec))
    res = subprocess.run([sys.executable, "-m", "genelang", "evolve", str(path), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    run_dir = Path(json.loads(res.stdout.strip().splitlines()[-1])["run_dir"])
    rows = list(sqlite3.connect(run_dir / "results.sqlite").execute("SELECT status, genome, metrics FROM evaluations"))
    return run_dir, rows


def kill_once_checkpointed(args: list[str], checkpoint, env=None, poll: float = 0.05) -> None:
    """Run `python -m ARGS` and SIGKILL it as soon as `checkpoint` exists
    (it must appear while the child runs, within two minutes)."""
    import os
    import signal
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env)
    try:
        deadline = time.time() + 120
        while not checkpoint.exists():
            assert proc.poll() is None and time.time() < deadline, "no checkpoint before the child ended"
            time.sleep(poll)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
