"""Regression tests for what a new user hit (issue 12): wrong answers that
exit 0, searches that cannot be extended or retried, runs that cannot be read."""
import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import genelang
from genelang.cli import cli
from genelang.errors import SpecError
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from tests.evolve_helpers import fake_fitness
from tests.test_evolve_search import spec_dict


def _evolve(tmp_path, d, *args):
    path = tmp_path / f"{d['run']['name']}.yaml"
    path.write_text(yaml.safe_dump(d))
    return CliRunner().invoke(cli, ["evolve", str(path), *args])


def test_a_multi_objective_search_reports_the_fittest_everywhere(tmp_path):
    d = spec_dict(tmp_path, "mo")
    d["fitness"] = {"estimator": "params", "objectives": ["fitness", "-params"]}
    # the params estimator scores -params: flip it so the fittest is the largest network,
    # which the Pareto sort on -params would never put first
    res = _evolve(tmp_path, dict(d, plugins=["tests.flip_params"], fitness={"estimator": "flipped-params",
                                                                             "objectives": ["fitness", "-params"]}),
                  "--json")
    assert res.exit_code == 0, res.output
    done = json.loads(res.output.strip().splitlines()[-1])
    run = genelang.load_run(done["run_dir"])
    ok = run.evaluations[run.evaluations.status == "ok"]
    fittest = ok.fitness.max()
    assert done["best_fitness"] == fittest == run.best.fitness
    assert Path(done["outputs"]["best"]).read_text().startswith(f"# best of run mo: fitness {fittest:.6g}")
    st = genelang.run_status(Path(done["run_dir"]))
    assert st.best["fitness"] == fittest
    assert run.best.genome in done["best_genome"]


@pytest.mark.parametrize("val,message", [(1.5, "between 0 and 1"), (-0.2, "between 0 and 1"),
                                         (0, "at least 1")])
def test_task_val_is_validated(tmp_path, val, message):
    d = spec_dict(tmp_path)
    d["task"]["val"] = val
    with pytest.raises(SpecError, match=message):
        parse_spec(d)


def test_a_validation_count_larger_than_the_subset_is_refused(tmp_path):
    d = spec_dict(tmp_path)
    d["task"].update(subset=100, val=200)
    with pytest.raises(SpecError, match="task.val: 200 validation samples leave none"):
        parse_spec(d)


def test_a_search_that_cannot_load_its_data_fails_before_writing_anything(tmp_path):
    d = spec_dict(tmp_path, "nodata")
    d["task"] = {"name": "cifar10"}          # no root: no data on this machine
    d["fitness"] = {"estimator": "train"}
    res = _evolve(tmp_path, d)
    assert res.exit_code == 2, res.output
    assert "cifar" in res.output.lower()
    assert not (tmp_path / "nodata").exists()


def test_a_search_where_every_candidate_fails_exits_non_zero(tmp_path):
    d = spec_dict(tmp_path, "allfail", generations=1)
    d["plugins"] = ["tests.flip_params"]
    d["fitness"] = {"estimator": "always-fails"}
    res = _evolve(tmp_path, d)
    assert res.exit_code == 1 and "no candidate succeeded" in res.output


def test_retry_failed_evaluates_the_failures_again(tmp_path):
    d = spec_dict(tmp_path, "retry", generations=3)
    flaky = lambda text, seed: (fake_fitness(text, seed) if seed % 3 else {"status": "failed", "reason": "gone"})
    first = run_search(parse_spec(d), evaluate=flaky)
    assert first.reused_failures == 0 and first.failures > 0
    again = run_search(parse_spec(d), evaluate=fake_fitness)
    assert again.reused_failures == first.failures and again.failures == first.failures
    retried = run_search(parse_spec(d), evaluate=fake_fitness, retry_failed=True)
    straight = run_search(parse_spec(spec_dict(tmp_path, "straight", generations=3)), evaluate=fake_fitness)
    db = sqlite3.connect(retried.run_dir / "results.sqlite")
    g = db.execute("SELECT MAX(generation) FROM generations").fetchone()[0]
    final = lambda r: [x for (x,) in sqlite3.connect(r.run_dir / "results.sqlite").execute(
        "SELECT phenotype FROM population WHERE generation = ? ORDER BY slot", (g,))]
    assert final(retried) == final(straight)        # as if the failures had never happened
    assert retried.best_fitness == straight.best_fitness


def test_more_generations_extend_a_finished_search_and_other_changes_name_their_keys(tmp_path):
    d = spec_dict(tmp_path, "ext", generations=2)
    run_search(parse_spec(d), evaluate=fake_fitness)
    d["strategy"]["generations"] = 4
    d["execution"]["workers"] = 0
    longer = run_search(parse_spec(d), evaluate=fake_fitness)
    straight = run_search(parse_spec(spec_dict(tmp_path, "four", generations=4)), evaluate=fake_fitness)
    assert longer.best_fitness == straight.best_fitness and longer.evaluations == straight.evaluations
    d["run"]["seed"] = 99
    d["strategy"]["population"] = 7
    with pytest.raises(SpecError, match="run.seed, strategy.population differ"):
        run_search(parse_spec(d), evaluate=fake_fitness)


def test_load_run_and_status_csv_carry_genome_text(tmp_path):
    result = run_search(parse_spec(spec_dict(tmp_path, "read")), evaluate=fake_fitness)
    run = genelang.load_run(result.run_dir)
    assert len(run.evaluations) == result.evaluations
    assert {"genome", "fitness", "params", "macs", "status", "phenotype"} <= set(run.evaluations.columns)
    assert run.evaluations.genome.str.startswith("genome ").all()
    assert len(run.populations) == 6 * 4
    res = CliRunner().invoke(cli, ["status", str(result.run_dir), "--csv"])
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert res.exit_code == 0 and len(rows) == result.evaluations and rows[0]["genome"].startswith("genome ")
    history = list(csv.DictReader(open(result.run_dir / "history.csv")))
    assert history[0]["genome"] == rows[0]["genome"]


def test_spec_messages_suggest_keys_report_everything_and_locate_values(tmp_path):
    path = tmp_path / "typos.yaml"
    path.write_text("run:\n  seeed: 1\nstrategy:\n  population: 3\n  elitism: 5\n  operator: {}\n"
                    "fitness:\n  epoch: 2\ntask:\n  val: 1.5\n")
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2
    out = res.output
    assert "run.seeed: unknown key" in out and "did you mean 'seed'?" in out
    assert "strategy.operator: unknown key" in out and "did you mean 'operators'?" in out
    assert "fitness.epoch: unknown key" in out and "did you mean 'epochs'?" in out
    assert "strategy.elitism: must be smaller than strategy.population" in out   # not hidden by the others
    assert "typos.yaml:10:8" in out and "task.val" in out                       # a value error, located


def test_evolve_threads_option_reaches_the_workers(tmp_path):
    from genelang.evolve.execution.backends import worker_threads
    d = spec_dict(tmp_path)
    d["execution"] = {"workers": 2, "threads": 3}
    assert worker_threads(parse_spec(d)) == 3
    d["execution"] = {"workers": 2}
    import os
    assert worker_threads(parse_spec(d)) == max(1, (os.cpu_count() or 1) // 2)


def test_train_a_run_directorys_candidate_reproduces_its_fitness(tmp_path):
    d = spec_dict(tmp_path, "again", generations=1)
    d["strategy"]["population"] = 2
    d["task"] = {"name": "digits", "subset": 300, "batch_size": 32}
    d["model"] = {"C": 2, "N": 1}
    d["fitness"] = {"estimator": "train", "epochs": 1}
    result = run_search(parse_spec(d))
    run = genelang.load_run(result.run_dir)
    res = CliRunner().invoke(cli, ["train", str(result.run_dir), "--candidate", "best", "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output[res.output.index("{"):])["metrics"]
    assert metrics["score"] == pytest.approx(run.best.fitness, abs=1e-6)
    other = run.evaluations[run.evaluations.id != run.best.id].iloc[0]
    res = CliRunner().invoke(cli, ["train", str(result.run_dir), "--candidate", str(other.id), "--json"])
    assert json.loads(res.output[res.output.index("{"):])["metrics"]["score"] == pytest.approx(other.fitness, abs=1e-6)
    res = CliRunner().invoke(cli, ["train", str(result.run_dir), "--candidate", "999"])
    assert res.exit_code == 2 and "no evaluation with id 999" in res.output
