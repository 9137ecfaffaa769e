from pathlib import Path

import pytest
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import dag, load_file, load_text
from genelang.compiler.darts_import import import_darts
from genelang.errors import GenelangError

EX = Path(__file__).parents[1] / "examples" / "genotypes"
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
            "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
            "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
            "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
            "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
ENAS = ("Genotype(recurrent=[('tanh', 0), ('tanh', 1), ('relu', 1), ('tanh', 3), ('tanh', 3), ('relu', 3), "
        "('relu', 4), ('relu', 7), ('relu', 8), ('relu', 8), ('relu', 8)], concat=[2, 5, 6, 9, 10, 11])")
# PC-DARTS's published CIFAR-10 genotype (yuhuixu1993/PC-DARTS genotypes.py)
PC_DARTS = ("Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), "
            "('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), "
            "('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), "
            "('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), "
            "('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))")
DARTS_RNN = ("Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ('relu', 1), ('identity', 1), ('tanh', 2), "
             "('sigmoid', 5), ('tanh', 3), ('relu', 5)], concat=range(1, 9))")


def canon(text):
    return dag.canonical(load_text(text).genomes[0])


def test_darts_v2_import_is_the_example():
    assert canon(import_darts(DARTS_V2)) == dag.canonical(load_file(EX / "darts_v2.gene").genomes[0])


def test_enas_import_is_the_example():
    assert canon(import_darts(ENAS)) == dag.canonical(load_file(EX / "enas_ptb.gene").genomes[0])


def test_pc_darts_and_darts_rnn_import_with_range():
    g = load_text(import_darts(PC_DARTS, "pc_darts")).genomes[0]
    assert str(dag.expression(g, g.gene("r5"))) == "add(sep_conv_3x3(h1), sep_conv_3x3(r2))"
    r = load_text(import_darts(DARTS_RNN, "darts_rnn")).genomes[0]
    assert len(r.adfs) == 9 and str(dag.expression(r, r.gene("s5"))).startswith("blend(tanh(linear(s2))")


@pytest.mark.parametrize("bad", [
    "Genotype(normal=[('conv_9x9', 0), ('sep_conv_3x3', 1)], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)])",
    "Genotype(normal=[('sep_conv_3x3', 5), ('sep_conv_3x3', 1)], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)])",
    "Genotype(normal=__import__('os').system('true'))",
    "Genotype(normal=[",
    "Foo(recurrent=[])",
    "Genotype(recurrent=[('swish', 0)], concat=[1])",
])
def test_bad_genotypes_are_user_errors(bad):
    with pytest.raises(GenelangError):
        import_darts(bad)


def test_cli(tmp_path):
    out = tmp_path / "v2.gene"
    res = CliRunner().invoke(cli, ["import", "darts", DARTS_V2, "-o", str(out), "--name", "v2"])
    assert res.exit_code == 0
    assert load_file(out).genomes[0].name == "v2"
    res = CliRunner().invoke(cli, ["import", "darts", "Genotype(normal=[('nope', 0)])"])
    assert res.exit_code == 2
