"""`show` never cuts a line when its output is not a terminal; a space named
by another tool's word is told the genelang name."""
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import check_file, dag, load_text, parse_text

WIDE = load_text("genome wide_genome_with_a_long_name on conv {\n" + "".join(
    f"    adf a{i} = add sep_conv_5x5 dil_conv_5x5 | h1 h2 {'a' + str(i - 1) if i > 1 else 'h1'} h2\n"
    for i in range(1, 9)) + """    cell normal    = cat(cat(cat(a8, a7), cat(a6, a5)), cat(cat(a4, a3), cat(a2, a1)))
    cell reduction = add(a1, a2)
}
""").genomes[0]


def test_show_prints_long_lines_whole_when_piped(tmp_path):
    from genelang.compiler.printer import format_genome
    f = tmp_path / "wide.gene"
    f.write_text(format_genome(WIDE))
    res = CliRunner().invoke(cli, ["show", str(f)])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert max(len(line) for line in lines) > 80
    for gene in WIDE.genes:   # each gene's expansion stands whole on its line
        assert any(line.endswith(f"→ {dag.expression(WIDE, gene)}") for line in lines), gene.name


def test_cnn_is_told_conv_as_well_as_the_closest_spelling():
    (d,) = check_file(parse_text("genome x on cnn {\n    cell normal = a | a a\n}\n"))
    assert d.code == "space" and d.hint == "did you mean 'conv' or 'rnn'?"
    (d,) = check_file(parse_text("genome x on lstm {\n    state h = x\n}\n"))
    assert d.hint == "did you mean 'rnn'?"
    (d,) = check_file(parse_text("genome x on cnv {\n    cell normal = a | a a\n}\n"))
    assert d.hint == "did you mean 'conv'?"


def test_ops_suggests_the_space_too():
    res = CliRunner().invoke(cli, ["ops", "cnn"])
    assert res.exit_code == 2 and "did you mean 'conv' or 'rnn'?" in res.output
