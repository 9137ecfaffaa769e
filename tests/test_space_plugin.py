"""A space registered from outside the package is checked, printed, shown and
built with no edit to genelang."""
import importlib

import pytest
import torch
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import check_file, format_file, load_text, parse_text
from genelang.compiler.check import terminals
from genelang.compiler.registry import get_space, unregister_space
from genelang.errors import CheckError

GOOD = """genome t on tiny {
    adf a    = plus neg | u v v
    cell out = plus(a, neg(v))
}
"""


@pytest.fixture
def tiny():
    import tests.tiny_space as module
    importlib.reload(module)   # registers it again after an earlier test removed it
    yield module.SPACE
    unregister_space("tiny")


def test_a_genome_of_a_plugin_space_checks_and_round_trips(tiny):
    gf = load_text(GOOD)
    assert format_file(gf) == GOOD
    genome = gf.genomes[0]
    assert terminals(genome, genome.gene("a")) == ["u", "v"]
    assert terminals(genome, genome.gene("out")) == ["u", "v", "a"]
    assert get_space("tiny").main_genes(["y", "z"]) == [("cell", "y"), ("cell", "z")]


def test_a_plugin_space_reports_its_own_and_generic_problems(tiny):
    text = GOOD.replace("neg(v)", "negg(w)").replace("}", "    cell b = u\n    cell c = v\n}")
    gf = parse_text(text)
    found = {(d.code, d.message, d.hint) for d in check_file(gf)}
    assert ("unknown", "unknown symbol 'negg'", "did you mean 'neg'?") in found
    assert any(m == "unknown symbol 'w'" for _, m, _ in found)
    clean = parse_text(GOOD.replace("}", "    cell b = u\n    cell c = v\n}"))
    assert [(d.code, d.location.line) for d in check_file(clean)] == [("tiny", 1)]
    with pytest.raises(CheckError, match="'h1' is an input of the conv space, not tiny"):
        load_text(GOOD.replace("neg(v)", "h1"))


def test_a_plugin_space_builds_its_network(tiny):
    from genelang.runtime.build import build_model
    net, x = build_model(load_text(GOOD).genomes[0])
    assert x.shape == (2, 2)
    u, v = x[:, 0], x[:, 1]
    assert torch.allclose(net(x), (u - v) - v)
    with pytest.raises(ValueError, match="tiny input shape is F"):
        build_model(load_text(GOOD).genomes[0], input_shape=(2, 3))


def test_the_cli_lists_and_shows_a_plugin_space(tiny, tmp_path):
    f = tmp_path / "t.gene"
    f.write_text(GOOD)
    runner = CliRunner()
    assert runner.invoke(cli, ["check", str(f)]).exit_code == 0
    res = runner.invoke(cli, ["ops", "tiny"])
    assert res.exit_code == 0 and "negation" in res.output
    res = runner.invoke(cli, ["show", str(f)])
    assert res.exit_code == 0 and "cell out" in res.output
