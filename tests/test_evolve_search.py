import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.errors import SpecError
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import load_spec, parse_spec
from tests.evolve_helpers import fake_fitness

ROOT = Path(__file__).parents[1]


def spec_dict(tmp_path, name="s", strategy="gep", **strategy_kw):
    return {"run": {"name": name, "seed": 3, "out": str(tmp_path / name)},
            "task": {"name": "digits"},
            "space": {"space": "conv", "adfs": 3, "adf_head": 2, "main_head": 2},
            "model": {"C": 4, "N": 1},
            "strategy": {"name": strategy, "population": 6, "generations": 4, **strategy_kw},
            "fitness": {"estimator": "params"},
            "execution": {"workers": 0}}


def genomes_in_order(run_dir: Path) -> list[str]:
    db = sqlite3.connect(run_dir / "results.sqlite")
    return [r[0].split("\n", 1)[1] for r in db.execute("SELECT genome FROM evaluations ORDER BY id")]


def final_population(run_dir: Path) -> list[str]:
    db = sqlite3.connect(run_dir / "results.sqlite")
    g = db.execute("SELECT MAX(generation) FROM generations").fetchone()[0]
    return [r[0].split("\n", 1)[1]
            for r in db.execute("SELECT genome FROM population WHERE generation=? ORDER BY slot", (g,))]


@pytest.mark.parametrize("strategy", ["gep", "random", "regularized-evolution"])
def test_same_spec_and_seed_give_the_same_search(tmp_path, strategy):
    a = run_search(parse_spec(spec_dict(tmp_path, "a", strategy)), evaluate=fake_fitness)
    b = run_search(parse_spec(spec_dict(tmp_path, "b", strategy)), evaluate=fake_fitness)
    assert genomes_in_order(a.run_dir) == genomes_in_order(b.run_dir)
    assert final_population(a.run_dir) == final_population(b.run_dir)
    other = spec_dict(tmp_path, "c", strategy)
    other["run"]["seed"] = 4
    c = run_search(parse_spec(other), evaluate=fake_fitness)
    assert genomes_in_order(c.run_dir) != genomes_in_order(a.run_dir)


def test_elitism_keeps_the_best(tmp_path):
    spec = parse_spec(spec_dict(tmp_path, generations=6, elitism=2))
    result = run_search(spec, evaluate=fake_fitness)
    db = sqlite3.connect(result.run_dir / "results.sqlite")
    fit = {r[0]: r[1] for r in db.execute("SELECT phenotype, fitness FROM evaluations")}
    best = [max(fit[r[0]] for r in db.execute(
        "SELECT phenotype FROM population WHERE generation=?", (g,))) for g in range(6)]
    assert best == sorted(best)
    assert best[-1] == max(fit.values()) or best[-1] >= best[0]


def test_each_phenotype_is_evaluated_once(tmp_path):
    result = run_search(parse_spec(spec_dict(tmp_path, generations=6)), evaluate=fake_fitness)
    db = sqlite3.connect(result.run_dir / "results.sqlite")
    phen = [r[0] for r in db.execute("SELECT phenotype FROM evaluations")]
    assert len(phen) == len(set(phen))


def test_a_failing_candidate_does_not_stop_the_search(tmp_path):
    calls = []

    def flaky(text, seed):
        calls.append(text)
        if len(calls) % 3 == 0:
            raise RuntimeError("boom")
        if len(calls) % 5 == 0:
            return {"status": "ok", "fitness": float("nan")}
        return fake_fitness(text, seed)

    result = run_search(parse_spec(spec_dict(tmp_path)), evaluate=flaky)
    rows = list(sqlite3.connect(result.run_dir / "results.sqlite").execute(
        "SELECT status, reason FROM evaluations"))
    assert any(s == "failed" and "boom" in r for s, r in rows)
    assert result.best_fitness is not None and (result.run_dir / "best.gene").exists()
    assert result.generations == 4


def test_outputs(tmp_path):
    d = spec_dict(tmp_path)
    d["fitness"]["objectives"] = ["fitness", "-params"]
    result = run_search(parse_spec(d), evaluate=fake_fitness)
    for name in ("best.gene", "history.csv", "fitness.png", "pareto.png", "spec.yaml"):
        assert (result.run_dir / name).exists(), name
    from genelang.compiler import load_file
    load_file(result.run_dir / "best.gene")
    front = list((result.run_dir / "pareto").glob("*.gene"))
    assert front and all(load_file(p) for p in front)


KILLER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from functools import partial
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import load_spec
from tests.evolve_helpers import fake_fitness
run_search(load_spec(sys.argv[1]), evaluate=partial(fake_fitness, delay=float(sys.argv[2])))
"""


def test_sigkill_then_resume_loses_nothing_and_ends_the_same(tmp_path):
    spec = spec_dict(tmp_path, "killed", generations=5)
    path = tmp_path / "killed.yaml"
    path.write_text(yaml.safe_dump(spec))
    script = tmp_path / "run.py"
    script.write_text(KILLER.format(root=str(ROOT)))
    proc = subprocess.Popen([sys.executable, str(script), str(path), "0.15"])
    db_path = tmp_path / "killed" / "results.sqlite"
    deadline = time.time() + 60
    n = 0
    while time.time() < deadline:
        if db_path.exists():
            try:
                n = sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            if n >= 9:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = list(sqlite3.connect(db_path).execute("SELECT id, phenotype, fitness FROM evaluations"))
    assert len(before) >= 9
    resumed = run_search(load_spec(path), evaluate=fake_fitness)
    after = list(sqlite3.connect(db_path).execute("SELECT id, phenotype, fitness FROM evaluations"))
    assert after[:len(before)] == before                    # nothing stored was lost
    assert len({p for _, p, _ in after}) == len(after)      # nothing evaluated twice
    straight = run_search(parse_spec(spec_dict(tmp_path, "straight", generations=5)), evaluate=fake_fitness)
    assert final_population(resumed.run_dir) == final_population(straight.run_dir)
    assert sorted(genomes_in_order(resumed.run_dir)) == sorted(genomes_in_order(straight.run_dir))


def test_a_different_spec_cannot_reuse_a_run_directory(tmp_path):
    run_search(parse_spec(spec_dict(tmp_path)), evaluate=fake_fitness)
    d = spec_dict(tmp_path)
    d["strategy"]["population"] = 7
    with pytest.raises(SpecError) as e:
        run_search(parse_spec(d), evaluate=fake_fitness)
    assert "holds a different search" in str(e.value)


def test_spec_errors_name_the_spec_path(tmp_path):
    d = spec_dict(tmp_path)
    d["strategy"]["operators"] = {"mutation": 1.5}
    d["space"]["adf_functions"] = ["sep3x3", "sigmoid"]
    d["fitness"]["bogus"] = 1
    with pytest.raises(SpecError) as e:
        parse_spec(d, "s.yaml")
    text = str(e.value)
    assert "strategy.operators.mutation: must be between 0 and 1" in text
    assert "fitness.bogus: unknown key" in text
    d = spec_dict(tmp_path)
    d["space"]["adf_functions"] = ["sep3x3", "sigmoid"]
    with pytest.raises(SpecError) as e:
        parse_spec(d, "s.yaml")
    assert "space.adf_functions[1]: 'sigmoid' is not a adf function" in str(e.value)


def test_cli_spec_commands_and_evolve(tmp_path):
    runner = CliRunner()
    starter = tmp_path / "spec.yaml"
    assert runner.invoke(cli, ["spec", "init", str(starter)]).exit_code == 0
    assert runner.invoke(cli, ["spec", "check", str(starter)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategy:\n  population: [1\n")
    res = runner.invoke(cli, ["spec", "check", str(bad)])
    assert res.exit_code == 2 and "bad.yaml:3:1" in res.output
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(spec_dict(tmp_path, "cli")))
    res = runner.invoke(cli, ["evolve", str(good), "--json"])
    assert res.exit_code == 0, res.output
    events = [json.loads(l) for l in res.output.splitlines() if l.startswith("{")]
    assert events[0]["event"] == "start" and events[-1]["event"] == "done"
    assert Path(events[-1]["outputs"]["best"]).exists()
    res = runner.invoke(cli, ["evolve", str(good), "--fresh"])
    assert res.exit_code == 2


def test_real_estimators_on_tiny_data(tmp_path):
    from genelang.evolve.execution.evaluation import EvalRequest
    from genelang.evolve.execution.fitness import evaluate
    text = (ROOT / "examples" / "genotypes" / "nasgep_demo.gene").read_text()
    base = spec_dict(tmp_path)
    base["task"]["subset"] = 256
    for est in ("params", "random-weights", "naswot", "synflow", "train"):
        d = json.loads(json.dumps(base))
        d["fitness"]["estimator"] = est
        r = evaluate(EvalRequest(text, 0, parse_spec(d)))
        assert r.status == "ok", (est, r.reason, r.traceback)
        assert r.fitness == r.fitness and r.metrics["params"] > 0
    d["fitness"]["max_params"] = 10
    assert evaluate(EvalRequest(text, 0, parse_spec(d))).status == "infeasible"


def test_local_process_pool(tmp_path):
    d = spec_dict(tmp_path, "pool", generations=2)
    d["strategy"]["population"] = 3
    d["execution"]["workers"] = 2
    result = run_search(parse_spec(d))
    rows = list(sqlite3.connect(result.run_dir / "results.sqlite").execute("SELECT status, worker FROM evaluations"))
    assert rows and all(s == "ok" for s, _ in rows)
    assert all(w and ":" in w for _, w in rows)


def test_every_example_spec_validates():
    specs = sorted((ROOT / "examples" / "specs").glob("*.yaml"))
    assert len(specs) >= 6
    for p in specs:
        load_spec(p)


def test_recurrent_search_on_text(tmp_path):
    d = spec_dict(tmp_path, "rnn", generations=2)
    d["task"] = {"name": "text-classification", "batch_size": 32}
    d["space"] = {"space": "rnn", "states": ["h", "c"], "adfs": 1, "adf_head": 2, "main_head": 3}
    d["model"] = {"hidden": 8}
    d["strategy"]["population"] = 3
    d["fitness"] = {"estimator": "train", "epochs": 1}
    result = run_search(parse_spec(d))
    rows = list(sqlite3.connect(result.run_dir / "results.sqlite").execute("SELECT status, fitness FROM evaluations"))
    assert rows and all(s == "ok" and 0 <= f <= 1 for s, f in rows)
    from genelang.compiler import load_file
    assert load_file(result.run_dir / "best.gene").genomes[0].space == "rnn"


def test_a_worker_crash_fails_only_its_own_candidate():
    from genelang.evolve.execution.backends import Backend, PoolExecutor
    from genelang.evolve.execution.evaluation import EvalRequest
    from tests.evolve_helpers import crash_on_seed_zero
    pool = Backend(PoolExecutor(2), crash_on_seed_zero)
    text = (ROOT / "examples" / "genotypes" / "nasgep_demo.gene").read_text()
    try:
        seen = []
        first = pool.map([EvalRequest(text, s) for s in (1, 0, 2, 3)], lambda i, r: seen.append(i))
        assert first[1].status == "failed" and "worker died" in first[1].reason
        assert [first[i].status for i in (0, 2, 3)] == ["ok"] * 3   # innocent neighbours ran again
        assert sorted(seen) == [0, 1, 2, 3]
        second = pool.map([EvalRequest(text, 1), EvalRequest(text, 2)], lambda i, r: None)
        assert [r.status for r in second] == ["ok", "ok"]
    finally:
        pool.close()


def test_a_stalled_candidate_times_out_alone():
    from genelang.evolve.execution.backends import Backend, PoolExecutor
    from genelang.evolve.execution.evaluation import EvalRequest
    from tests.evolve_helpers import stall_on_seed_zero
    pool = Backend(PoolExecutor(2), stall_on_seed_zero, timeout=1, grace=8)
    text = (ROOT / "examples" / "genotypes" / "nasgep_demo.gene").read_text()
    try:
        out = pool.map([EvalRequest(text, s) for s in (0, 1, 2, 3, 4)], lambda i, r: None)
        assert out[0].status == "failed" and "timed out" in out[0].reason
        assert [r.status for r in out[1:]] == ["ok"] * 4
    finally:
        pool.close()
