"""The Ray backend runs a tiny search on a local Ray instance."""
import sqlite3

import ray   # the dev extra installs it

from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from tests.test_evolve_search import spec_dict


def test_tiny_search_on_local_ray(tmp_path):
    d = spec_dict(tmp_path, "ray", generations=2)
    d["strategy"]["population"] = 4
    d["execution"] = {"backend": "ray", "workers": 1}
    try:
        result = run_search(parse_spec(d))
    finally:
        ray.shutdown()
    rows = list(sqlite3.connect(result.run_dir / "results.sqlite").execute("SELECT status, worker FROM evaluations"))
    assert rows and all(s == "ok" for s, _ in rows)
    assert result.best_fitness is not None


def test_a_stalled_ray_task_times_out_alone():
    from genelang.evolve.execution.backends import Backend, RayExecutor
    from genelang.evolve.execution.evaluation import EvalRequest
    from tests.evolve_helpers import stall_on_seed_zero
    try:
        backend = Backend(RayExecutor(None, workers=2), stall_on_seed_zero, timeout=4, grace=4)
        seen = []
        results = backend.map([EvalRequest("genome x {}\n a", 0), EvalRequest("genome y {}\n b", 1),
                               EvalRequest("genome z {}\n c", 2)], lambda i, r: seen.append(i))
    finally:
        ray.shutdown()
    assert results[0].status == "failed" and "timed out" in results[0].reason
    assert [r.status for r in results[1:]] == ["ok", "ok"], results
    assert sorted(seen) == [0, 1, 2]


def test_ray_packs_candidates_on_fractional_gpus_without_oversubscribing(tmp_path):
    from genelang.evolve.execution.backends import make_backend
    from genelang.evolve.execution.evaluation import EvalRequest
    from tests.evolve_helpers import gpu_probe
    d = spec_dict(tmp_path, "ray-gpu")
    d["execution"] = {"backend": "ray", "devices": "auto", "per_device": 2}
    ray.init(num_cpus=8, num_gpus=2, include_dashboard=False, log_to_driver=False)   # logical GPUs
    try:
        backend = make_backend(parse_spec(d), gpu_probe)
        assert backend.executor.gpu_share == 0.5 and backend.executor.slots == 4   # 2 GPUs x per_device 2
        results = backend.map([EvalRequest("genome x {}\n a", s) for s in range(8)], lambda i, r: None)
    finally:
        ray.shutdown()
    runs = []
    for r in results:
        device, gpu = r.reason.split("|")
        assert device == "cuda:0" and gpu in ("0", "1")   # Ray gave each task one GPU, seen as cuda:0
        runs.append((r.metrics["start"], r.metrics["end"], gpu))

    def most_at_once(spans):
        return max(sum(s <= t < e for s, e, _ in spans) for t, _, _ in spans)

    assert most_at_once(runs) <= 4
    assert all(most_at_once([x for x in runs if x[2] == g]) <= 2 for g in ("0", "1"))
    assert {g for _, _, g in runs} == {"0", "1"}
