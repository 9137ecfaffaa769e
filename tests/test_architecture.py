"""The seams: one import direction, the public API, registries a user extends
from outside the package, and spec checks that know what fits what."""
import ast
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import genelang
from genelang.cli import cli
from genelang.compiler.registry import unregister_op
from tests.test_evolve_search import spec_dict


@pytest.fixture(autouse=True)
def _conv_keeps_its_own_ops():
    """Importing tests.plugin_extras in-process (a spec's `plugins`) adds an op to
    the conv space for the life of the worker; taken out after each test, so later
    tests draw from the conv space's own functions, as their subprocesses do. (The
    module stays imported, keeping its estimator and strategies registered; the
    test that searches with the op runs in a fresh interpreter.)"""
    yield
    unregister_op("conv", "plug_conv")

ROOT = Path(__file__).parents[1]
# compiler <- runtime <- evolve <- study, report <- cli; the shared modules below them all
LAYERS = {"errors": 0, "atomic": 0, "plugins": 0, "suggest": 0, "compiler": 1, "runtime": 2, "evolve": 3, "study": 4,
          "report": 4,
          "cli": 5, "__main__": 5, "__init__": 6}
LAYERS["differentiable"] = LAYERS["runtime"]    # differentiable search's runtime side


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("genelang."):
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names if a.name.startswith("genelang."))


def test_imports_go_one_way():
    bad = []
    for path in (ROOT / "genelang").rglob("*.py"):
        rel = path.relative_to(ROOT / "genelang")
        src = LAYERS[rel.parts[0].removesuffix(".py")]
        for module, line in _imports(path):
            dst = LAYERS[module.split(".")[1]]
            if dst > src:
                bad.append(f"genelang/{rel}:{line} imports {module}")
    assert not bad, "\n".join(bad)


def test_every_public_name_resolves():
    for name in genelang.__all__:
        assert getattr(genelang, name) is not None, name


def test_a_plugin_registers_an_op_an_estimator_and_a_strategy_used_by_a_spec(tmp_path):
    d = spec_dict(tmp_path, "plugged", strategy="plug-random", generations=2)
    d["plugins"] = ["tests.plugin_extras"]
    d["space"]["adf_functions"] = ["plug_conv", "add"]
    d["fitness"] = {"estimator": "plug-size"}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(d))
    # a fresh interpreter: the spec's `plugins` alone makes the names known
    res = subprocess.run([sys.executable, "-m", "genelang", "evolve", str(spec), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    done = json.loads(res.stdout.strip().splitlines()[-1])
    rows = list(sqlite3.connect(Path(done["run_dir"]) / "results.sqlite").execute(
        "SELECT status, genome, metrics FROM evaluations"))
    assert rows and all(s == "ok" and json.loads(m)["plugin"] == 1.0 for s, _, m in rows)
    assert any("plug_conv" in g for _, g, _ in rows)


def test_spec_check_refuses_an_estimator_that_does_not_fit_the_space(tmp_path):
    d = spec_dict(tmp_path)
    d["task"] = {"name": "text-classification"}
    d["space"] = {"space": "rnn", "adfs": 1}
    d["fitness"] = {"estimator": "random-weights"}
    path = tmp_path / "rnn.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2
    assert "fitness.estimator" in res.output and "'random-weights' cannot score genomes of the rnn space" in res.output
    # other tests' plugins may have registered more space-agnostic estimators by now
    hint = res.output.split("estimators for rnn: ")[1].split("\n")[0].split(", ")
    assert {"params", "train"} <= set(hint) and "random-weights" not in hint


def test_an_unknown_plugin_is_a_located_spec_error(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("plugins: [no_such_module_xyz]\n")
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2 and "plugins[0]: cannot import 'no_such_module_xyz'" in res.output


def test_compile_with_a_runs_spec_builds_the_network_the_search_scored(tmp_path):
    from genelang.evolve.search import run_search
    from genelang.evolve.spec.schema import parse_spec
    d = spec_dict(tmp_path, "scored", generations=1)
    d["model"] = {"C": 6, "N": 1}          # not the compile defaults
    result = run_search(parse_spec(d))
    stored = genelang.load_run(result.run_dir).best.metrics["params"]
    res = CliRunner().invoke(cli, ["compile", str(result.run_dir / "best.gene"), "--spec",
                                   str(result.run_dir / "spec.yaml"), "--to", "summary"])
    assert res.exit_code == 0, res.output
    assert f"{stored:,}" in res.output or str(stored) in res.output, (stored, res.output)
    plain = CliRunner().invoke(cli, ["compile", str(result.run_dir / "best.gene"), "--to", "summary"])
    assert f"{stored:,}" not in plain.output and str(stored) not in plain.output


def _spec_check(tmp_path, strategy: str, options: dict, plugins=()):
    d = spec_dict(tmp_path, "opts", strategy=strategy, options=options)
    d["plugins"] = list(plugins)
    path = tmp_path / "opts.yaml"
    path.write_text(yaml.safe_dump(d))
    return path, CliRunner().invoke(cli, ["spec", "check", str(path)])


def _line_col(path: Path, key: str) -> str:
    """`FILE:line:col` of the value of `key:` in the spec file, as a spec error locates it."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip().startswith(f"{key}:"):
            return f"{path.name}:{n}:{line.index(':') + 3}"
    raise AssertionError(key)


def test_a_plugin_strategys_options_model_locates_a_bad_option(tmp_path):
    path, res = _spec_check(tmp_path, "plug-options", {"width": 0}, ["tests.plugin_extras"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "strategy.options.width" in res.output and "greater than or equal to 1" in res.output
    assert _line_col(path, "width") in res.output
    path, res = _spec_check(tmp_path, "plug-options", {"widht": 2}, ["tests.plugin_extras"])
    assert res.exit_code == 2 and "strategy.options.widht" in res.output and "did you mean 'width'?" in res.output
    _, res = _spec_check(tmp_path, "plug-options", {"width": 2}, ["tests.plugin_extras"])
    assert res.exit_code == 0, res.output


def test_a_plugin_strategy_reads_its_validated_options(tmp_path):
    from genelang.evolve.search import run_search
    from genelang.evolve.spec.schema import parse_spec
    from tests.evolve_helpers import fake_fitness
    d = spec_dict(tmp_path, "w2", strategy="plug-options", options={"width": 2}, generations=3)
    d["plugins"] = ["tests.plugin_extras"]
    result = run_search(parse_spec(d), evaluate=fake_fitness)
    rows = sqlite3.connect(result.run_dir / "results.sqlite").execute(
        "SELECT generation, COUNT(*) FROM evaluations GROUP BY generation").fetchall()
    assert [n for g, n in rows if g > 0] and all(n <= 2 for g, n in rows if g > 0)


def test_predictor_gep_refuses_an_unknown_predictor_at_its_spec_line(tmp_path):
    path, res = _spec_check(tmp_path, "predictor-gep", {"predictor": "gbn"})
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "strategy.options.predictor" in res.output and "'gbm'" in res.output
    assert _line_col(path, "predictor") in res.output
