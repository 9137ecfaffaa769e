"""Where candidates run: device settings, the spec's execution.devices, and
workers pinned to devices (fake GPU lists: no CUDA is needed)."""
import pytest
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.errors import GenelangError, SpecError
from genelang.evolve.execution.placement import DEFAULT_PER_DEVICE, assign, placement
from genelang.evolve.spec.schema import ExecutionSpec, parse_spec
from genelang.runtime import devices
from genelang.runtime.devices import lightning_devices, lightning_precision, parse_devices, resolve_devices
from tests.test_evolve_search import ROOT, spec_dict


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
    from genelang.evolve.execution.backends import Backend, PoolExecutor, make_backend, worker_threads
    from genelang.evolve.execution.evaluation import EvalRequest
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


GENOME = "examples/genotypes/nasgep_demo.gene"


def _genome():
    from genelang.compiler import load_file
    return load_file(ROOT / GENOME).genomes[0]


@pytest.fixture
def one_thread():
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # tiny networks on a shared 2-core machine: more threads only fight
    yield
    torch.set_num_threads(threads)


def test_bf16_mixed_trains_on_the_cpu_and_its_loss_falls(one_thread):
    import pytorch_lightning as pl

    from genelang.runtime.config import ModelConfig, TaskConfig

    from genelang.runtime.train import train_genome
    used = []

    class Precision(pl.Callback):
        def on_train_start(self, trainer, _):
            used.append(trainer.precision)

    r = train_genome(_genome(), TaskConfig("digits", subset=200, batch_size=25), ModelConfig(C=4), epochs=2,
                     lr=0.1, precision="bf16-mixed", callbacks=[Precision()])
    assert used == ["bf16-mixed"]
    first, last = r.history[0]["train_loss_epoch"], r.history[-1]["train_loss_epoch"]
    assert last < 0.9 * first, (first, last)


def test_device_batches_cover_each_sample_once_per_epoch():
    import torch

    from genelang.runtime.data import DeviceBatches
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    batches = DeviceBatches((x, y), 4, shuffle=True, seed=1)
    assert len(batches) == 3
    epochs = [torch.cat([b[1] for b in batches]) for _ in range(2)]
    assert all(sorted(e.tolist()) == list(range(10)) for e in epochs)
    assert epochs[0].tolist() != epochs[1].tolist()     # a new order each epoch
    assert [b[1].tolist() for b in DeviceBatches((x, y), 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_the_device_resident_path_trains_through_lightning(monkeypatch, one_thread):
    """The GPU data path (split moved once, batches sliced and augmented where the
    tensors live, no DataLoader), run here on CPU tensors."""
    from genelang.runtime import task_data, train
    from genelang.runtime.config import ModelConfig, TaskConfig
    monkeypatch.setattr(train, "on_accelerator", lambda device: True)
    task_data.device_splits.clear()
    task = TaskConfig("digits", subset=200, batch_size=50, augment=True, cutout=4)
    r = train.train_genome(_genome(), task, ModelConfig(C=4), epochs=2, test=True)
    assert 0 <= r.metrics["val_acc"] <= 1 and r.metrics["test_acc"] >= 0 and len(r.history) == 2
    assert len(task_data.device_splits._items) == 1     # the split moved once, kept for the next candidate
    train.train_genome(_genome(), task, ModelConfig(C=4), epochs=1)
    assert len(task_data.device_splits._items) == 1
    task_data.device_splits.clear()


def test_the_train_estimator_trains_on_the_candidates_device(tmp_path, monkeypatch):
    from genelang.evolve.execution.evaluation import EvalContext, EvalRequest
    from genelang.evolve.execution.fitness import evaluate
    from genelang.runtime import train
    from genelang.runtime.train import TrainResult
    seen = {}

    def fake_train(genome, task, model, **kw):
        seen.update(kw)
        return TrainResult({"score": 0.5}, 1, 0.0, 1)

    monkeypatch.setattr(train, "train_genome", fake_train)
    d = spec_dict(tmp_path)
    d["fitness"] = {"estimator": "train", "precision": "bf16-mixed"}
    text = (ROOT / GENOME).read_text()
    r = evaluate(EvalRequest(text, 0, parse_spec(d), EvalContext(device="cuda:1")))
    assert r.ok and seen["device"] == "cuda:1" and seen["precision"] == "bf16-mixed"
    assert lightning_devices(seen["device"]) == ("gpu", [1])


def test_out_of_gpu_memory_fails_that_candidate_frees_memory_and_the_workers_go_on(tmp_path, monkeypatch):
    import sqlite3

    import torch

    from genelang.evolve.execution.evaluation import EvalRequest
    from genelang.evolve.execution.fitness import evaluate
    from genelang.evolve.search import run_search
    d = spec_dict(tmp_path, "oom", generations=2)
    d["plugins"] = ["tests.oom_plugin"]
    d["fitness"] = {"estimator": "oom-once", "options": {"marker": str(tmp_path)}}
    flushed = []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: flushed.append(1))
    first = evaluate(EvalRequest((ROOT / GENOME).read_text(), 0, parse_spec(d)))
    assert first.status == "failed" and first.reason == "out of GPU memory" and flushed == [1]
    (tmp_path / "oom-marker").unlink()
    d["strategy"]["population"] = 4
    d["execution"] = {"workers": 2}
    result = run_search(parse_spec(d))
    rows = list(sqlite3.connect(result.run_dir / "results.sqlite").execute("SELECT status, reason, worker FROM evaluations"))
    assert [r[1] for r in rows if r[0] == "failed"] == ["out of GPU memory"]
    assert sum(r[0] == "ok" for r in rows) == len(rows) - 1 >= 3
    assert len({w for _, _, w in rows}) <= 2     # no worker died: the pool was never restarted


@pytest.mark.parametrize("args, says", [
    (["--devices", "1"], "--devices: error[option]: GPU 1 is not on this machine"),
    (["--devices", "gpu0"], "--devices: error[option]: devices 'gpu0'"),
    (["--precision", "16-mixed"], "--precision: error[option]: precision 16-mixed needs a GPU"),
])
def test_compare_device_and_precision_options_are_located_errors(args, says, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "visible_gpus", lambda: 0)
    res = CliRunner().invoke(cli, ["compare", str(ROOT / GENOME), "--task", "digits", "--seeds", "2",
                                   "--out", str(tmp_path), *args])
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output


def test_autocast_is_mixed_precision_only_where_the_setting_asks_for_it():
    import torch
    x = torch.randn(4, 4)
    for precision in (None, "32"):
        with devices.autocast(precision, "cpu"):
            assert (x @ x).dtype == torch.float32
    with devices.autocast("bf16-mixed", "cpu"):
        assert (x @ x).dtype == torch.bfloat16
