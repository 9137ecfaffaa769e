import pytest
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import dag, load_file, load_text
from genelang.study.ablate import ablate, add_edge, drop_edges, one_activation, replace_each_node, \
    replace_everywhere, swap_cells
from genelang.errors import GenelangError

DARTS_LIKE = load_text("""genome d on conv {
    adf n2         = add(sep_conv_3x3(h2), sep_conv_3x3(h1))
    adf n3         = add(skip_connect(h2), dil_conv_3x3(n2))
    cell normal    = cat(n2, n3)
    cell reduction = cat(n3, n2)
}
""").genomes[0]
RNN = load_text("""genome r on rnn {
    state h = blend(tanh(linear(x)), h[t-1], sigmoid(linear(h[t-1])))
}
""").genomes[0]


def coding(genome):
    return {g.name: str(dag.expression(genome, g)) for g in genome.genes}


def test_replace_everywhere_changes_exactly_that_op():
    (v,) = replace_everywhere(DARTS_LIKE, "sep_conv_3x3", "skip_connect")
    assert coding(v.genome)["n2"] == "add(skip_connect(h2), skip_connect(h1))"
    assert coding(v.genome)["n3"] == coding(DARTS_LIKE)["n3"]
    assert replace_everywhere(DARTS_LIKE, "max_pool_3x3", "pw") == []


def test_each_node_makes_one_variant_per_unary_node():
    variants = replace_each_node(DARTS_LIKE, "skip_connect")
    # sep, sep in n2; dil in n3 (skip_connect itself is skipped)
    assert len(variants) == 3
    for v in variants:
        before, after = coding(DARTS_LIKE), coding(v.genome)
        diff = [k for k in before if before[k] != after[k]]
        assert len(diff) == 1
        assert after[diff[0]].count("skip_connect") == before[diff[0]].count("skip_connect") + 1


def test_drop_and_add_edges():
    drops = drop_edges(DARTS_LIKE)
    assert len(drops) == 4
    assert coding(drops[0].genome)["n2"] == "sep_conv_3x3(h2)"
    adds = add_edge(DARTS_LIKE, "skip_connect", "h1")
    assert coding(adds[0].genome)["n2"] == "add(add(sep_conv_3x3(h2), sep_conv_3x3(h1)), skip_connect(h1))"


def test_one_activation_and_swap():
    (v,) = one_activation(RNN, "relu")
    assert coding(v.genome)["h"] == "blend(relu(linear(x)), h[t-1], relu(linear(h[t-1])))"
    (s,) = swap_cells(DARTS_LIKE)
    assert coding(s.genome)["normal"] == coding(DARTS_LIKE)["reduction"]
    assert swap_cells(RNN) == []


def test_head_length_is_kept_when_the_tree_fits():
    (v,) = replace_everywhere(DARTS_LIKE, "sep_conv_3x3", "pw")
    for a, b in zip(DARTS_LIKE.genes, v.genome.genes):
        assert len(a.head) == len(b.head)


def test_ablate_writes_valid_round_tripping_files_and_reports_invalid(tmp_path):
    res = ablate(DARTS_LIKE, ["drop-edges", "each-node:pw", "swap-cells", "add-edge:pw(h9)"],
                 tmp_path, "d.gene")
    assert len(res.written) == 4 + 4 + 1   # drops, one pw per unary node, the swap
    assert len(res.rejected) == 2 and all("unknown symbol 'h9'" in r[1][0] for r in res.rejected)
    for path, v in res.written:
        gf = load_file(path)
        assert dag.canonical(gf.genomes[0]) == dag.canonical(v.genome)
        assert path.read_text().startswith("# Ablation of genome d from d.gene: ")
    names = {p.name for p in tmp_path.iterdir()}
    assert len(names) == len(res.written)


def test_unknown_edit_is_a_user_error(tmp_path):
    with pytest.raises(GenelangError):
        ablate(DARTS_LIKE, ["explode"], tmp_path)


def test_cli(tmp_path):
    f = tmp_path / "d.gene"
    from genelang.compiler.printer import format_genome
    f.write_text(format_genome(DARTS_LIKE))
    res = CliRunner().invoke(cli, ["ablate", str(f), "replace:sep_conv_3x3=skip_connect",
                                   "--out", str(tmp_path / "v")])
    assert res.exit_code == 0, res.output
    assert "1 variant(s) written" in res.output
    res = CliRunner().invoke(cli, ["ablate", str(f), "bogus", "--out", str(tmp_path / "v")])
    assert res.exit_code == 2


def test_drop_edges_removes_each_connection_of_a_recurrent_cell():
    from genelang.compiler import load_text
    g = load_text("""genome r on rnn {
    adf a = add(x, tanh(h[t-1]))
    state h = mul(a, sigmoid(c[t-1]))
    state c = a
}""").genomes[0]
    drops = drop_edges(g)
    assert len(drops) == 4          # add in the ADF, mul in state h: each input dropped once
    assert {coding(v.genome)["h"] for v in drops} >= {"a", "sigmoid(c[t-1])"}
    assert {coding(v.genome)["a"] for v in drops} >= {"x", "tanh(h[t-1])"}
    added = {v.name: coding(v.genome) for v in add_edge(g, "linear", "h[t-1]")}
    assert set(added) == {"a-add-linear-h[t-1]", "h-add-linear-h[t-1]", "c-add-linear-h[t-1]"}
    assert added["c-add-linear-h[t-1]"]["c"] == "add(a, linear(h[t-1]))"
