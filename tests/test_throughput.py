"""A search reports its own throughput: candidates per hour over every session
of the run, and the GFLOP/s its workers achieve while training."""
import json

import pytest
from click.testing import CliRunner

from genelang.cli import cli
from genelang.evolve.run.status import run_status
from genelang.evolve.run.throughput import Throughput, training_gflop_s
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from tests.evolve_helpers import fake_fitness
from tests.test_evolve_search import spec_dict


def test_the_flops_of_a_training_are_counted_by_hand():
    # 1,000 multiply-adds; 10 training images (forward + backward: 3 passes), 5 validation images
    # (forward only); 2 FLOPs per multiply-add; in 2 seconds
    assert training_gflop_s(1000, 10, 5, 2.0) == pytest.approx(2 * 1000 * (30 + 5) / 2.0 / 1e9)
    assert training_gflop_s(0, 10, 5, 2.0) is None and training_gflop_s(1000, 10, 5, 0.0) is None


def test_throughput_adds_up_over_sessions():
    t = Throughput(10, 60.0, 1.5).plus(5, 30.0, 2.0)
    assert (t.evaluated, t.seconds, t.gflop_s) == (15, 90.0, 2.0)
    assert t.per_hour == pytest.approx(600.0)
    assert Throughput.loads(t.dumps()) == t
    assert "600 candidates/hour" in t.line() and "2.0 GFLOP/s" in t.line()


def test_a_training_search_records_its_throughput_in_the_database_and_status(tmp_path):
    d = spec_dict(tmp_path, "speed", generations=2, population=3)
    d["task"] = {"name": "digits", "subset": 200}
    d["fitness"] = {"estimator": "train"}
    result = run_search(parse_spec(d), preflight=False)
    t = result.throughput
    assert t.evaluated == result.evaluations > 0 and t.seconds > 0 and t.per_hour > 0
    assert t.gflop_s is not None and t.gflop_s > 0
    st = run_status(result.run_dir)
    assert st.throughput == t                      # stored beside the evaluations
    res = CliRunner().invoke(cli, ["status", str(result.run_dir)])
    assert res.exit_code == 0 and "candidates/hour" in res.output and "GFLOP/s" in res.output
    res = CliRunner().invoke(cli, ["status", str(result.run_dir), "--json"])
    assert json.loads(res.output)["throughput"]["candidates_per_hour"] == pytest.approx(t.per_hour)


def test_a_resumed_search_adds_only_what_it_evaluated(tmp_path):
    spec = parse_spec(spec_dict(tmp_path, "resume", generations=2))
    first = run_search(spec, evaluate=fake_fitness).throughput
    again = run_search(spec, evaluate=fake_fitness).throughput     # nothing left to do
    assert again.evaluated == first.evaluated and again.seconds >= first.seconds
    longer = spec.model_copy(update={"strategy": spec.strategy.model_copy(update={"generations": 4})})
    more = run_search(longer, evaluate=fake_fitness)
    assert more.throughput.evaluated == more.evaluations > first.evaluated
    assert first.gflop_s is None                     # an injected fitness trains nothing
