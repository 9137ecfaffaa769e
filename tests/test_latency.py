"""The latency table: a candidate's latency is the sum of its entries; a
missing entry is measured and stored, or reported — never zero; a table of
another device or thread count is never read; `max_latency_ms` refuses
candidates before anything is built; spaces without per-layer entries are
timed end to end, once per phenotype."""
import json
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.runtime.config import ModelConfig
from genelang.runtime.latency import predict as predict_module
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.device import device_key
from genelang.runtime.latency.predict import MissingLatency, Predictor, latency_model
from genelang.runtime.latency.table import LatencyTable
from tests.evolve_helpers import search_counting_builds
from tests.test_chain_spaces import random_genome

TINY = ModelConfig(C=4, skeleton="mnist")
SHAPE = (1, 28, 28)


def _predictor(tmp_path, **cfg) -> Predictor:
    c = LatencyConfig(table=str(tmp_path / "latency.json"), warmup=1, repeats=3, **cfg)
    return Predictor(c, latency_model("fbnet", TINY, 10, SHAPE), LatencyTable(c.table, device_key(c)))


def _no_timing(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("nothing should be timed")
    monkeypatch.setattr(predict_module, "time_parts", refuse)


def test_a_candidates_latency_is_the_sum_of_its_entries(tmp_path, monkeypatch):
    p = _predictor(tmp_path)
    names = p.model.all_entries()
    p.table.add({n: float(i + 1) for i, n in enumerate(names)})
    _no_timing(monkeypatch)
    fresh = _predictor(tmp_path)                       # read back from the file
    genome = random_genome("fbnet", 2)
    mine = fresh.model.entries(genome)
    assert len(mine) == 22 + 2                         # every layer, the stem and the head
    assert fresh.latency(genome) == sum(names.index(n) + 1.0 for n in mine)


def test_a_missing_entry_is_measured_and_stored(tmp_path):
    p = _predictor(tmp_path)
    genome = random_genome("fbnet", 3)
    ms = p.latency(genome)
    stored = json.loads((tmp_path / "latency.json").read_text())["tables"][str(p.table.key)]["entries"]
    assert set(p.model.entries(genome)) <= set(stored)
    assert all(stored[n] > 0 for n in p.model.entries(genome)) and ms == pytest.approx(
        sum(stored[n] for n in p.model.entries(genome)))


def test_a_missing_entry_is_reported_when_measuring_is_off(tmp_path, monkeypatch):
    p = _predictor(tmp_path, measure_missing=False)
    _no_timing(monkeypatch)
    with pytest.raises(MissingLatency, match="24 latency entries missing .*`genelang latency SPEC`"):
        p.latency(random_genome("fbnet", 4))
    assert not (tmp_path / "latency.json").exists()


def test_a_table_of_another_thread_count_or_device_is_not_read(tmp_path, monkeypatch):
    two = _predictor(tmp_path, threads=2)
    two.table.add({n: 1.0 for n in two.model.all_entries()})
    one = _predictor(tmp_path, threads=1, measure_missing=False)
    assert one.table.entries == {}
    with pytest.raises(MissingLatency):
        one.latency(random_genome("fbnet", 5))
    # another device's table (written by hand: this machine has only its own)
    data = json.loads((tmp_path / "latency.json").read_text())
    other = str(two.table.key).replace("cpu:", "cuda: Some GPU |").replace("threads 2", "threads 1")
    data["tables"][other] = {"entries": {n: 1.0 for n in two.model.all_entries()}}
    (tmp_path / "latency.json").write_text(json.dumps(data))
    assert _predictor(tmp_path, threads=1).table.entries == {}
    # measuring this key keeps the others
    _predictor(tmp_path, threads=1).latency(random_genome("fbnet", 5))
    assert len(json.loads((tmp_path / "latency.json").read_text())["tables"]) == 3


def test_other_spaces_are_timed_end_to_end_once_per_phenotype(tmp_path, monkeypatch):
    from genelang.compiler import nb201
    c = LatencyConfig(table=str(tmp_path / "l.json"), warmup=1, repeats=3)
    p = Predictor(c, latency_model("nb201", ModelConfig(), 10, (3, 8, 8)), LatencyTable(c.table, device_key(c)))
    genome = nb201.genome_from_arch("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|")
    ms = p.latency(genome)
    assert ms > 0 and p.model.entries(genome)[0].startswith("e2e|nb201|")
    _no_timing(monkeypatch)
    assert p.latency(genome) == ms


def _spec(tmp_path, **fitness) -> dict:
    return {"run": {"name": "lat", "seed": 1, "out": str(tmp_path / "run")},
            "task": {"name": "digits", "subset": 300}, "space": {"space": "fbnet"},
            "model": {"C": 4, "skeleton": "mnist"},
            "strategy": {"name": "gep", "population": 6, "generations": 2},
            "fitness": {"estimator": "params", "objectives": ["fitness", "-latency"],
                        "latency": {"table": str(tmp_path / "latency.json"), "warmup": 1, "repeats": 3}, **fitness},
            "execution": {"workers": 0}}


def test_max_latency_ms_refuses_candidates_before_building_them(tmp_path, monkeypatch):
    from genelang.evolve.spec.schema import parse_spec
    d = _spec(tmp_path)
    spec = parse_spec(d)
    probe = predict_module.predictor(spec.fitness.latency, "fbnet", *spec.configs())   # the spec's own table
    # made-up entries (every block its own time): the search's latencies are exact, nothing is timed
    probe.table.add({n: float(sum(map(ord, n)) % 13 + 1) for n in probe.model.all_entries()})
    _no_timing(monkeypatch)
    lats = sorted(probe.latency(random_genome("fbnet", s)) for s in range(8))
    spec = parse_spec(_spec(tmp_path, max_latency_ms=round(lats[4], 4)))
    infeasible, ok, built = search_counting_builds(spec, monkeypatch)
    assert len(infeasible) and len(ok)
    assert all("ms > max_latency_ms" in r for r in infeasible.reason)
    assert not set(infeasible.phenotype) & set(built)
    for _, r in ok.iterrows():
        assert r.objectives == [r.fitness, -r.latency] and 0 < r.latency <= spec.fitness.max_latency_ms


def test_the_latency_command_builds_extends_and_reports(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(tmp_path)))
    runner = CliRunner()
    first = runner.invoke(cli, ["latency", str(path), "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output.strip().splitlines()[-1])
    assert report["measured"] == report["entries"] == 194 and report["reused"] == 0
    again = json.loads(runner.invoke(cli, ["latency", str(path), "--json"]).output.strip().splitlines()[-1])
    assert again["measured"] == 0 and again["reused"] == 194
    (tmp_path / "latency.json").write_text("{not json")
    bad = runner.invoke(cli, ["latency", str(path)])
    assert bad.exit_code == 2 and "not a latency table" in bad.output and "Traceback" not in bad.output


def test_spec_check_locates_latency_mistakes(tmp_path):
    d = _spec(tmp_path, max_latency_ms=-1)
    d["fitness"]["objectives"] = ["fitness", "-latency_ms"]
    d["fitness"]["latency"]["device"] = "gpu"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "fitness.max_latency_ms" in res.output and "fitness.latency.device" in res.output
    assert "did you mean '-latency'" in res.output


_FAULTS = """
import json, resource, torch
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.heap import heap_state
from genelang.runtime.latency.device import device_key
from genelang.runtime.latency.timer import time_ms

def faults() -> int:   # of a fresh 64 MiB tensor, written then freed, after the heap grew to hold it
    for _ in range(4):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(16 * 2**20)
        n = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return n

default = faults()
time_ms(torch.nn.Identity(), (1,), LatencyConfig(warmup=0, repeats=1))   # the first timing holds the heap
print(json.dumps({"default": default, "steady": faults(), "state": heap_state(),
                  "key": str(device_key(LatencyConfig()))}))
"""


def test_timing_holds_the_heap_steady_so_large_tensors_cost_no_page_faults():
    # A fresh interpreter: the setting lasts for the process, and glibc serves a
    # thread other than the main one (pytest-xdist's) from heaps too small for it.
    out = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if got["state"] != "steady":
        pytest.skip("not glibc: no mallopt")
    assert got["default"] > 10_000      # 16,384 pages: with glibc's defaults, a fault each
    assert got["steady"] < 100
    assert "heap steady" in got["key"]


def _summary(tmp_path, gene, *extra):
    args = ["compile", str(gene), "--to", "summary", "--channels", "4", "--skeleton", "mnist",
            "--input-shape", "1,28,28", "--latency-table", str(tmp_path / "latency.json"), *extra]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    return res.output.splitlines()


def test_summary_predicts_each_stages_latency_from_the_table(tmp_path, monkeypatch):
    from genelang.compiler.printer import format_genome
    p = _predictor(tmp_path)
    genome = random_genome("fbnet", 6)
    gene = tmp_path / "g.gene"
    gene.write_text(format_genome(genome))
    before = _summary(tmp_path, gene)
    assert "latency ms" not in before[1] and before[-1].startswith("latency: no latency table for this device")
    names = p.model.all_entries()
    p.table.add({n: float(i + 1) for i, n in enumerate(names)})
    _no_timing(monkeypatch)
    lines = _summary(tmp_path, gene)
    assert lines[1].split()[-2:] == ["latency", "ms"] and lines[-1].startswith("latency: predicted from")
    ms = {ln.split()[0]: float(ln.split()[-1]) for ln in lines[2:-1]}
    parts = p.model.parts(genome)
    assert ms["stem"] == names.index(parts["stem"][0]) + 1 and ms["head"] == names.index(parts["head"][0]) + 1
    stages = [k for k in ms if k.startswith("stages.")]
    assert len(stages) == len(parts) - 2 and all(ms[s] == sum(names.index(n) + 1 for n in parts[s]) for s in stages)
    assert ms["total"] == pytest.approx(p.latency(genome)) == pytest.approx(sum(v for k, v in ms.items()
                                                                                if k != "total"))
    # one entry gone: no column, the count said
    data = json.loads((tmp_path / "latency.json").read_text())
    del data["tables"][str(p.table.key)]["entries"][parts["head"][0]]
    (tmp_path / "latency.json").write_text(json.dumps(data))
    assert _summary(tmp_path, gene)[-1].startswith(f"latency: 1 of {len(p.model.entries(genome))} latency entries")


def test_summary_says_sequence_networks_have_no_latency_prediction(tmp_path):
    from pathlib import Path

    from genelang.runtime.ship import load_network, summary_text
    net = load_network(Path(__file__).parents[1] / "examples/genotypes/lstm.gene", model=ModelConfig(hidden=8))
    text = summary_text(net, LatencyConfig(table=str(tmp_path / "l.json")))
    assert text.splitlines()[-1] == "latency: predicted for image networks only" and "latency ms" not in text
