"""A search's costs come from the cost table: `-macs` objectives and the
`max_macs` limit decide infeasibility before anything is built."""
import math
import random
from statistics import median

import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler.printer import format_genome
from genelang.evolve.execution.evaluation import EvalRequest
from genelang.evolve.execution.fitness import evaluate
from genelang.evolve.spec.schema import parse_spec
from genelang.compiler.template import Template
from genelang.runtime import models
from genelang.runtime.cost_table import task_cost_table
from tests.evolve_helpers import search_counting_builds
from tests.test_evolve_search import spec_dict


def _median_macs(spec) -> int:
    t = Template.from_spec(spec.space)
    table = task_cost_table(*spec.configs(), t.max_operands())
    rng = random.Random(0)
    return int(median(table.cost(t.genome(t.random(rng))).macs for _ in range(40)))


def test_max_macs_refuses_candidates_before_building_them(tmp_path, monkeypatch):
    d = spec_dict(tmp_path, "macs", generations=3)
    d["fitness"]["objectives"] = ["fitness", "-macs"]
    d["fitness"]["max_macs"] = _median_macs(parse_spec(d))
    spec = parse_spec(d)
    infeasible, ok, built = search_counting_builds(spec, monkeypatch)
    assert len(infeasible) and len(ok)
    assert all("max_macs" in r and "multiply-adds" in r for r in infeasible.reason)
    assert (infeasible.macs > d["fitness"]["max_macs"]).all() and (ok.macs <= d["fitness"]["max_macs"]).all()
    assert not set(infeasible.phenotype) & set(built)           # never built
    assert set(ok.phenotype) <= set(built)                      # the `params` estimator builds the others
    for _, r in ok.iterrows():                                  # objectives: fitness, then minus the MACs
        assert r.objectives == [r.fitness, -r.macs]
    assert all(o[1] == -math.inf for o in infeasible.objectives)


def test_macs_and_params_are_known_without_a_build(tmp_path, monkeypatch):
    spec = parse_spec(spec_dict(tmp_path) | {"fitness": {"estimator": "params", "max_params": 1}})
    t = Template.from_spec(spec.space)
    genome = t.genome(t.random(random.Random(1)))

    def boom(*_a):
        raise AssertionError("built")

    monkeypatch.setattr(models, "make_model", boom)
    r = evaluate(EvalRequest(format_genome(genome), 0, spec))
    assert r.status == "infeasible" and "max_params 1" in r.reason
    assert r.metrics["macs"] > 0 and r.metrics["params"] > 1


def test_spec_check_suggests_macs_for_flops(tmp_path):
    d = spec_dict(tmp_path)
    d["fitness"]["objectives"] = ["fitness", "-flops"]
    path = tmp_path / "flops.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2
    assert "fitness.objectives[1]" in res.output and "flops.yaml:" in res.output
    assert "did you mean '-macs'?" in res.output


def test_macs_need_a_space_with_a_cost_table(tmp_path):
    d = spec_dict(tmp_path)
    d["task"] = {"name": "text-classification"}
    d["space"] = {"space": "rnn", "adfs": 1}
    d["fitness"] = {"estimator": "train", "objectives": ["fitness", "-macs"], "max_macs": 1000}
    path = tmp_path / "rnn.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2
    for where in ("fitness.objectives[1]", "fitness.max_macs"):
        assert where in res.output
    assert "the rnn space has none" in res.output and "spaces with one: conv" in res.output
