"""DARTS's cell search space in the language (compiler/darts_space.py): its
genomes are the text `genelang import darts` writes, genomes that leave it are
located errors, and edges ↔ genome round-trips."""
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import load_file, load_text
from genelang.compiler.check import check_genome
from genelang.compiler.darts_import import import_darts
from genelang.compiler.darts_space import DARTS, EDGES, edge_ops, genome_from_edges
from genelang.compiler.registry import get_space
from genelang.compiler.template import Template
from genelang.errors import CheckError
from tests.test_import_darts import DARTS_V2, PC_DARTS

EX = Path(__file__).parents[1] / "examples" / "genotypes"
# NASNet-A as DARTS's genotypes.py writes it: five nodes, inputs read twice — a conv genome, not a darts one
NASNET = ("Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), ('sep_conv_3x3', 0), "
          "('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0), ('avg_pool_3x3', 0), "
          "('sep_conv_3x3', 1), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5, 6], "
          "reduce=[('sep_conv_5x5', 1), ('sep_conv_7x7', 0), ('max_pool_3x3', 1), ('sep_conv_7x7', 0), "
          "('avg_pool_3x3', 1), ('sep_conv_5x5', 0), ('skip_connect', 3), ('avg_pool_3x3', 2), "
          "('sep_conv_3x3', 2), ('max_pool_3x3', 1)], reduce_concat=[4, 5, 6])")


def darts_v2():
    return load_file(EX / "darts_v2.gene").genomes[0]


def test_darts_v2_and_darts_searchable_imports_are_darts_genomes():
    assert darts_v2().space == DARTS
    imported = load_text(import_darts(DARTS_V2, "darts_v2")).genomes[0]
    assert imported.space == DARTS and edge_ops(imported) == edge_ops(darts_v2())
    assert load_text(import_darts(PC_DARTS, "pc")).genomes[0].space == DARTS


def test_a_genotype_outside_the_space_imports_as_a_conv_genome():
    with pytest.raises(Exception):       # NASNet uses sep_conv_7x7, not a DARTS op: refused as before
        import_darts(NASNET)
    text = NASNET.replace("sep_conv_7x7", "sep_conv_5x5")
    assert load_text(import_darts(text, "nasnet")).genomes[0].space == "conv"


def test_edges_round_trip_through_the_genome():
    g = darts_v2()
    ops = edge_ops(g)
    assert len(ops) == len(EDGES) == 28 and sum(o != "none" for o in ops) == 16
    again = genome_from_edges(ops, "again")
    assert not check_genome(again)
    assert get_space(DARTS).computation(again) == get_space(DARTS).computation(g)
    with pytest.raises(ValueError, match="node n2 has 1 edges"):
        genome_from_edges(("none",) + ops[1:])


def test_random_genomes_of_the_search_layout_are_valid_and_varied():
    from genelang.evolve.spec.schema import SpaceSpec
    t = Template.from_spec(SpaceSpec(space=DARTS))
    rng = random.Random(0)
    genomes = [t.genome(t.random(rng)) for _ in range(5)]
    assert all(not check_genome(g) for g in genomes)
    assert len({get_space(DARTS).computation(g) for g in genomes}) == 5


def _with(line_old: str, line_new: str) -> str:
    text = (EX / "darts_v2.gene").read_text()
    assert line_old in text
    return text.replace(line_old, line_new)


@pytest.mark.parametrize("old, new, line, col, message", [
    ("adf n3         = add sep_conv_3x3 sep_conv_3x3 | h2 h1 h1 h1",
     "adf n3         = add(add(sep_conv_3x3(h2), skip_connect(h1)), max_pool_3x3(n2))",
     10, 26, "node 'n3' sums 3 (operation, input) pairs"),
    ("adf r3         = add skip_connect max_pool_3x3 | r2 h1 h1 h1",
     "adf r3         = add skip_connect max_pool_3x3 | n2 h1 h1 h1", 14, 54, "node 'r3' reads 'n2', a node of the normal"),
    ("adf n5         = add skip_connect dil_conv_3x3 | h2 n2 n2 n2",
     "adf n5         = add skip_connect dil_conv_7x7 | h2 n2 n2 n2", 12, 39, "unknown symbol 'dil_conv_7x7'"),
    ("adf n4         = add sep_conv_3x3 skip_connect | h1 h2 h2 h2",
     "adf n4         = add sep_conv_3x3 skip_connect | h1 h1 h2 h2", 11, 57, "reads 'h1' twice"),
    ("adf n4         = add sep_conv_3x3 skip_connect | h1 h2 h2 h2",
     "adf n4         = add(sep_conv_3x3(h1), h2)", 11, 44, "each summand is one operation on one input"),
    ("adf n4         = add sep_conv_3x3 skip_connect | h1 h2 h2 h2",
     "adf n4         = add sep_conv_3x3 dw3x3 | h1 h2 h2 h2", 11, 39, "'dw3x3' is an operation of the conv space"),
    ("cell normal    = cat cat n5 cat | n4 n2 n3 n3 n3",
     "cell normal    = cat(n2, cat(n3, n4))", 17, 10, "cell 'normal' must concatenate its four nodes"),
], ids=["three-inputs", "wrong-input", "unknown-op", "same-input-twice", "no-operation", "conv-op", "cell"])
def test_genomes_that_leave_the_space_are_located_errors(tmp_path, old, new, line, col, message):
    path = tmp_path / "bad.gene"
    path.write_text(_with(old, new))
    with pytest.raises(CheckError) as err:
        load_file(path)
    d = err.value.diagnostics[0]
    assert message in d.message and (d.location.line, d.location.col) == (line, col), str(d)
    res = CliRunner().invoke(cli, ["check", str(path)])
    assert res.exit_code == 2 and f"bad.gene:{line}:{col}" in res.output


def test_a_conv_genome_is_not_a_darts_genome(tmp_path):
    path = tmp_path / "nasgep.gene"
    path.write_text((EX / "nasgep_demo.gene").read_text().replace(" on conv ", " on darts "))
    res = CliRunner().invoke(cli, ["check", str(path)])
    assert res.exit_code == 2 and "nasgep.gene:" in res.output
