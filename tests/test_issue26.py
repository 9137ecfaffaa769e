"""Regression tests for what a new user hit on the second trial (issue 26):
answers that were wrong but exited 0, and library calls that failed."""
import subprocess
import sys
from pathlib import Path

import yaml

import genelang
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from tests.evolve_helpers import fake_fitness
from tests.test_evolve_search import spec_dict

ROOT = Path(__file__).resolve().parents[1]


def test_evolve_stays_callable_after_load_run_and_load_spec(tmp_path):
    """Item 5: importing the `genelang.evolve` subpackage used to replace the
    `genelang.evolve` function with a module. A fresh interpreter, as a user's."""
    d = spec_dict(tmp_path, "callable", generations=1)
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text(yaml.safe_dump(d))
    code = ("import genelang, sys\n"
            f"spec = genelang.load_spec({str(spec_file)!r})\n"
            "fit = lambda text, seed: {'status': 'ok', 'fitness': 0.5}\n"
            "r = genelang.evolve(spec, evaluate=fit)\n"
            "genelang.load_run(r.run_dir)\n"
            "r = genelang.evolve(spec, evaluate=fit)\n"
            "print(r.best_fitness)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0.5"


def test_run_status_and_load_run_take_str_paths(tmp_path):
    """Item 6: `genelang.run_status("runs/k3")` failed on `str / str`."""
    res = run_search(parse_spec(spec_dict(tmp_path, "k3", generations=1)), evaluate=fake_fitness)
    st = genelang.run_status(str(res.run_dir))
    assert st.evaluations == res.evaluations and st.best["fitness"] == res.best_fitness
    assert genelang.load_run(str(res.run_dir)).best.fitness == res.best_fitness


def test_the_timeout_grace_is_for_a_fresh_workers_first_candidate_only(tmp_path):
    """Item 2: `fitness.timeout: 0.5` let candidates run 11 s: the start-up grace
    was added to every candidate's clock, not only to a fresh worker's first."""
    from genelang.evolve.execution.backends import Backend, PoolExecutor
    from genelang.evolve.execution.evaluation import EvalRequest
    from tests.evolve_helpers import report_pid_then_sleep
    backend = Backend(PoolExecutor(1), report_pid_then_sleep, timeout=1.0, grace=30.0)
    try:
        # the first candidate pays the worker's start-up within the grace; the second sleeps 6 s
        first, second = backend.map([EvalRequest(str(tmp_path), 0), EvalRequest(str(tmp_path), 6)],
                                    lambda i, r: None)
    finally:
        backend.close()
    assert first.status == "ok"
    # with the grace on every candidate (31 s), the 6 s sleep would have been recorded ok
    assert second.status == "failed" and second.reason == "timed out after 1 s"


def _nb201(tmp_path, name, **fitness):
    return parse_spec({"run": {"name": name, "seed": 1, "out": str(tmp_path / name)},
                       "space": {"space": "nb201"},
                       "strategy": {"name": "gep", "population": 8, "generations": 2},
                       "fitness": {"estimator": "tabular", **fitness}, "execution": {"workers": 0}})


def test_max_params_holds_for_an_estimator_that_builds_no_model(tmp_path):
    """Item 1: with `tabular` (a table lookup, no network built) `max_params`
    was never checked: the limit ran before the estimator priced anything."""
    from click.testing import CliRunner

    from genelang.cli import cli
    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text(yaml.safe_dump(_nb201(tmp_path, "tiny", max_params=1000).model_dump()))
    res = CliRunner().invoke(cli, ["evolve", str(spec_file)])   # the smallest cell has 73,306 parameters
    assert res.exit_code == 1 and "no candidate succeeded" in res.output, res.output
    st = genelang.run_status(tmp_path / "tiny")
    assert st.ok == 0 and st.infeasible == st.evaluations > 0
    some = run_search(_nb201(tmp_path, "some", max_params=400_000))
    run = genelang.load_run(some.run_dir)
    ok, infeasible = (run.evaluations[run.evaluations.status == s] for s in ("ok", "infeasible"))
    assert len(ok) and len(infeasible)
    assert (ok.params <= 400_000).all() and (infeasible.params > 400_000).all()
    assert all(" parameters > max_params 400000" in r for r in infeasible.reason)


def test_a_limit_nothing_can_price_refuses_the_spec(tmp_path):
    """Item 1, the other half: an estimator that builds nothing and reports no
    parameters, in a space without a cost model, cannot honour max_params."""
    import pytest

    from genelang.errors import SpecError
    spec = parse_spec({**_nb201(tmp_path, "blind").model_dump(), "plugins": ["tests.flip_params"],
                       "fitness": {"estimator": "blind", "max_params": 1000}})
    with pytest.raises(SpecError, match="max_params cannot be checked"):
        run_search(spec)
    assert not (tmp_path / "blind").exists()


def test_retraining_the_best_uses_the_searchs_threads_and_reproduces_its_fitness(tmp_path, monkeypatch):
    """Item 3: `train RUN_DIR --candidate best` trained with torch's default
    threads (the machine's cores) where the search used one, and got other numbers."""
    import json

    import torch
    from click.testing import CliRunner

    from genelang.cli import cli
    from genelang.runtime import train as runtime_train
    d = spec_dict(tmp_path, "rt", generations=1, population=2)
    d["task"].update(subset=120, val=40)
    d["fitness"] = {"estimator": "train", "epochs": 1}
    d["execution"] = {"workers": 0, "threads": 1}
    before = torch.get_num_threads()
    res = run_search(parse_spec(d))     # in this process: it leaves torch at one thread
    seen, real = [], runtime_train.train_genome

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime_train, "train_genome", spy)
    torch.set_num_threads(3)       # what a user's shell would have: torch's default, several threads
    try:
        out = CliRunner().invoke(cli, ["train", str(res.run_dir), "--candidate", "best", "--json"])
    finally:
        torch.set_num_threads(before)
    assert out.exit_code == 0, out.output
    assert seen == [1]
    metrics = json.loads(out.output[out.output.index("{"):])["metrics"]
    assert metrics["score"] == res.best_fitness


def test_a_retried_search_describes_the_search_as_replayed(tmp_path):
    """Item 4: `--retry-failed` replays the search from generation 0; its best,
    Pareto set, counts and status kept the first lineage's evaluations (and
    its failures) that the replay had discarded."""
    from click.testing import CliRunner

    from genelang.cli import cli
    d = spec_dict(tmp_path, "retry", generations=3)
    flaky = lambda text, seed: (fake_fitness(text, seed) if seed % 3 else {"status": "failed", "reason": "gone"})
    first = run_search(parse_spec(d), evaluate=flaky)
    assert first.failures > 0
    retried = run_search(parse_spec(d), evaluate=fake_fitness, retry_failed=True)
    straight = run_search(parse_spec(spec_dict(tmp_path, "straight", generations=3)), evaluate=fake_fitness)
    assert (retried.evaluations, retried.failures) == (straight.evaluations, 0)
    assert retried.best_fitness == straight.best_fitness
    a, b = genelang.load_run(retried.run_dir), genelang.load_run(straight.run_dir)
    assert sorted(a.evaluations.phenotype) == sorted(b.evaluations.phenotype)
    assert [e.phenotype for e in a.pareto] == [e.phenotype for e in b.pareto]
    st, st0 = genelang.run_status(retried.run_dir), genelang.run_status(straight.run_dir)
    assert (st.evaluations, st.ok, st.failed, st.failure_reasons) == (st0.evaluations, st0.ok, 0, [])
    import csv
    import io
    listed = list(csv.DictReader(io.StringIO(CliRunner().invoke(cli, ["status", str(retried.run_dir), "--csv"]).output)))
    assert len(listed) == straight.evaluations and {r["status"] for r in listed} == {"ok"}
    # resuming the replayed search takes its own results, not the replaced failures
    again = run_search(parse_spec(d), evaluate=flaky)
    assert (again.evaluations, again.failures, again.best_fitness) == (straight.evaluations, 0,
                                                                        straight.best_fitness)
