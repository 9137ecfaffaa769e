"""A chain-structured space written outside genelang (tests/chain_space.py) is
checked, formatted, compiled to every target, trained by `genelang train`,
priced by its cost model and searched by `genelang evolve` with the train,
params, synflow and supernet estimators — with no edit to genelang."""
import importlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from tests.evolve_helpers import evolve_cli
from genelang.cli import cli
from genelang.compiler import check_file, format_file, load_text, parse_text
from genelang.compiler.registry import get_space, unregister_space
from genelang.compiler.template import Template
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.models import make_model

ROOT = Path(__file__).parents[1]
GOOD = """genome m on chain {
    cell net = mb3e6 skip mb5e3 mb3e3 | x
}
"""
PLUGIN = ["--plugin", "tests.chain_space"]


@pytest.fixture
def chain():
    import tests.chain_space as module
    importlib.reload(module)   # registers it again after an earlier test removed it
    yield module
    unregister_space("chain")


def _template():
    class SpaceSpec:   # what Template.from_spec reads of a spec's space section
        space = "chain"
    return Template.from_spec(SpaceSpec())


def test_chain_genomes_check_round_trip_and_report_located_errors(chain):
    gf = load_text(GOOD)
    assert format_file(gf) == GOOD
    assert chain.layer_blocks(gf.genomes[0]) == ["mb3e3", "mb5e3", "skip", "mb3e6"]
    # layer 1 strides (16 -> 24 channels): it cannot be skipped; an unknown block is named
    bad = parse_text(GOOD.replace("mb5e3 mb3e3", "skip mb3e3"))
    (d,) = check_file(bad)
    assert d.code == "chain" and "layer 1 changes shape" in d.message
    assert (d.location.line, d.location.col) == (2, 27)
    # (mb7e6 is a block of the built-in proxyless space: a name no space has)
    unknown = check_file(parse_text(GOOD.replace("mb3e6", "mb9e6")))
    assert any(x.message == "unknown symbol 'mb9e6'" and "did you mean" in x.hint for x in unknown)


def test_chain_search_layout_draws_only_valid_genomes(chain):
    t = _template()
    rng = random.Random(0)
    for _ in range(50):
        assert t.is_valid(t.random(rng))
    assert [len(d) for d in t.slots[0].domains] == [4, 5, 4, 5, 1]   # layers 0 and 2 keep their shape


def test_the_cost_model_prices_what_the_network_has(chain, tmp_path):
    task, model = TaskConfig("digits"), ModelConfig(C=8)
    table = get_space("chain").builder("cost_model")(task, model, 1)
    t, rng = _template(), random.Random(1)
    for _ in range(20):
        genome = t.genome(t.random(rng))
        net = make_model(genome, task, model)
        assert table.cost(genome).params == sum(p.numel() for p in net.parameters())


def test_a_supernet_path_computes_what_the_compiled_genome_computes(chain):
    from genelang.runtime.supernet import StrictFair
    model = ModelConfig(C=8)
    torch.manual_seed(0)
    net = chain.supernet(_template(), model, num_classes=10, input_shape=(1, 8, 8))
    genome = load_text(GOOD).genomes[0]
    path = net.path(genome).eval()
    alone = chain.network(genome, model, num_classes=10, input_shape=(1, 8, 8)).eval()
    alone.load_state_dict(path.state_dict())
    x = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(path(x), alone(x))
    # strict-fair over the chain: one group holds every block of every layer
    group = StrictFair(net.shape).next_group(random.Random(0))
    assert {(p, s[0][p]) for s in group for p in range(4)} == {(p, b) for p, d in
                                                                 enumerate(net.shape.genes[0].domains[:4]) for b in d}


def test_every_export_target_and_genelang_train(chain, tmp_path):
    f = tmp_path / "m.gene"
    f.write_text(GOOD)
    runner = CliRunner()
    for target in ("torchscript", "export", "onnx", "python", "dot", "summary"):
        res = runner.invoke(cli, [*PLUGIN, "compile", str(f), "--to", target, "-o", str(tmp_path / f"m.{target}"),
                                  "--input-shape", "3,16,16"])
        assert res.exit_code == 0, (target, res.output)
    scripted = torch.jit.load(str(tmp_path / "m.torchscript"))
    assert scripted(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    res = subprocess.run([sys.executable, "-m", "genelang", *PLUGIN, "train", str(f), "--task", "digits",
                          "--subset", "200", "--channels", "8", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    metrics = json.loads(res.stdout[res.stdout.index("{"):])
    assert 0 <= metrics["metrics"]["val_acc"] <= 1 and metrics["params"] > 0


@pytest.mark.parametrize("estimator", ["train", "params", "synflow", "supernet"])
def test_genelang_evolve_searches_the_chain_space(tmp_path, estimator):
    spec = {"plugins": ["tests.chain_space"],
            "run": {"name": estimator, "seed": 1, "out": str(tmp_path / estimator)},
            "task": {"name": "digits", "subset": 300},
            "space": {"space": "chain"}, "model": {"C": 8},
            "strategy": {"name": "gep", "population": 4, "generations": 2},
            "fitness": {"estimator": estimator, "objectives": ["fitness", "-params"]},
            "supernet": {"steps": 6, "sampling": "strict-fair", "bn_batches": 1, "val_samples": 64,
                         "checkpoint_every": 3},
            "execution": {"workers": 0}}
    run_dir, rows = evolve_cli(spec, tmp_path / f"{estimator}.yaml")
    assert len(rows) >= 4 and all(s == "ok" for s, _, _ in rows)
    assert all(" on chain " in g for _, g, _ in rows)
    # every candidate priced by the space's cost model before it was scored
    assert all(json.loads(m)["params"] > 0 for _, _, m in rows)
    assert "on chain" in (run_dir / "best.gene").read_text()
