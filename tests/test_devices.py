"""Where candidates run: device settings, the spec's execution.devices, and
workers pinned to devices (fake GPU lists: no CUDA is needed)."""
import pytest
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.errors import GenelangError, SpecError
from genelang.evolve.placement import DEFAULT_PER_DEVICE, assign, placement
from genelang.evolve.spec import ExecutionSpec, parse_spec
from genelang.runtime import devices
from genelang.runtime.devices import lightning_devices, lightning_precision, parse_devices, resolve_devices
from tests.test_evolve_search import spec_dict


def test_slots_go_round_robin_over_the_devices():
    assert assign(["cuda:0", "cuda:1"], 4) == ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    assert assign(["cuda:3"], 2) == ["cuda:3", "cuda:3"]
    assert assign(["cpu"], 0) == []


def test_placement_from_the_execution_section():
    two = placement(ExecutionSpec(devices=[0, 1], per_device=2), gpus=2)
    assert two.gpus and two.workers == 4 and two.slots() == ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    auto = placement(ExecutionSpec(devices="auto"), gpus=3)
    assert auto.devices == ("cuda:0", "cuda:1", "cuda:2") and auto.workers == 3 * DEFAULT_PER_DEVICE
    assert placement(ExecutionSpec(devices=[1], per_device=3, workers=2), gpus=2).slots() == ["cuda:1", "cuda:1"]
    cpu = placement(ExecutionSpec(devices="auto", workers=2), gpus=0)   # no GPU: auto is the CPU
    assert not cpu.gpus and cpu.workers == 2 and placement(ExecutionSpec(), gpus=4).workers == 0


def test_device_settings_and_their_errors():
    assert parse_devices("cpu") == "cpu" and parse_devices("auto") == "auto"
    assert parse_devices("0") == [0] and parse_devices("0, 2") == [0, 2]
    for bad in ("gpu", "0,", "-1", "cuda:0"):
        with pytest.raises(GenelangError, match="devices"):
            parse_devices(bad)
    assert resolve_devices([1], count=2) == ["cuda:1"] and resolve_devices("auto", count=0) == ["cpu"]
    with pytest.raises(GenelangError, match="GPU 2 is not on this machine"):
        resolve_devices([0, 2], count=2)
    assert lightning_devices("cpu") == ("cpu", 1)
    assert lightning_devices("cuda:1") == ("gpu", [1]) and lightning_devices("cuda") == ("gpu", 1)
    assert lightning_precision(None, "cpu") == "32-true" and lightning_precision("bf16-mixed", "cpu") == "bf16-mixed"
    assert lightning_precision("16-mixed", "cuda:0") == "16-mixed"
    with pytest.raises(GenelangError, match="16-mixed needs a GPU"):
        lightning_precision("16-mixed", "cpu")


def test_a_gpu_the_machine_lacks_is_a_located_spec_error(tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "visible_gpus", lambda: 0)
    d = spec_dict(tmp_path)
    d["execution"] = {"workers": 2, "devices": [0]}
    path = tmp_path / "gpu.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    line = path.read_text().splitlines().index("  - 0") + 1
    assert res.exit_code == 2, res.output
    assert f"gpu.yaml:{line}:5" in res.output and "execution.devices[0]: GPU 0 is not on this machine" in res.output
    d["execution"] = {"devices": "cpu", "per_device": 2}
    d["fitness"]["precision"] = "16-mixed"
    with pytest.raises(SpecError) as e:
        parse_spec(d)
    assert "execution.per_device" in str(e.value) and "fitness.precision: 16-mixed needs a GPU" in str(e.value)
    d["fitness"]["precision"] = None
    d["execution"] = {"backend": "ray", "devices": [0]}
    with pytest.raises(SpecError, match="execution.devices: with backend ray: cpu or auto"):
        parse_spec(d)
    d["execution"] = {"devices": "tpu"}
    with pytest.raises(SpecError, match="execution.devices: cpu, auto, or a list of GPU indices"):
        parse_spec(d)
    d["execution"] = {"devices": [0, 1], "per_device": 0}
    with pytest.raises(SpecError, match="execution.per_device: must be at least 1"):
        parse_spec(d)


def test_workers_are_pinned_to_their_devices(tmp_path, monkeypatch):
    from genelang.evolve.backends import Backend, PoolExecutor, make_backend, worker_threads
    from genelang.evolve.evaluation import EvalRequest
    from tests.evolve_helpers import report_device
    monkeypatch.setattr(devices, "visible_gpus", lambda: 2)
    d = spec_dict(tmp_path)
    d["execution"] = {"devices": [0, 1], "per_device": 2}
    d["fitness"]["precision"] = 32
    spec = parse_spec(d)
    assert spec.fitness.precision == "32"
    planned = make_backend(spec)
    try:
        assert planned.executor.slots == 4 and planned.executor.devices == ["cuda:0", "cuda:1"] * 2
        assert worker_threads(spec) >= 1
    finally:
        planned.close()
    pool = Backend(PoolExecutor(4, ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]), report_device)
    try:
        results = pool.map([EvalRequest("genome x {}\n a", s) for s in range(12)], lambda i, r: None)
    finally:
        pool.close()
    seen: dict[int, set[str]] = {}
    for r in results:
        device, visible = r.reason.split("|")
        assert device == "cuda:0"          # a worker sees its one GPU as cuda:0 ...
        seen.setdefault(r.metrics["pid"], set()).add(visible)
    assert all(len(v) == 1 for v in seen.values())      # ... always the same one
    gpus = [v.pop() for v in seen.values()]
    assert set(gpus) <= {"0", "1"} and all(gpus.count(g) <= 2 for g in gpus)   # at most per_device each
