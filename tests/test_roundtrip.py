from pathlib import Path

from hypothesis import HealthCheck, given, settings

from genelang.compiler import check_genome, format_file, load_file, parse_text
from genelang.compiler.printer import format_genome
from tests.strategies import gene_files, genomes

EXAMPLES = sorted(Path(__file__).parents[1].joinpath("examples", "genotypes").glob("*.gene"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(gene_files())
def test_parse_inverts_print(gf):
    text = format_file(gf)
    again = parse_text(text)
    assert again == gf
    assert format_file(again) == text   # printing is stable


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(genomes())
def test_generated_genomes_have_only_valid_symbols(genome):
    # the strategy's genomes may fail only the reduction rule, never a symbol rule
    codes = {d.code for d in check_genome(genome)}
    assert codes <= {"reduce"}


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(gene_files())
def test_tree_and_karva_forms_convert_losslessly_on_the_coding_region(gf):
    from genelang.compiler import dag
    as_tree = parse_text(format_file(gf, "tree"))
    as_karva = parse_text(format_file(as_tree, "karva"))
    for a, b, c in zip(gf.genomes, as_tree.genomes, as_karva.genomes):
        assert dag.canonical(a) == dag.canonical(b) == dag.canonical(c)


def test_examples_exist_and_are_formatted():
    assert EXAMPLES, "no example genotypes"
    for path in EXAMPLES:
        gf = load_file(path)
        assert format_file(gf) == path.read_text(), f"{path.name} is not formatted"


def test_formatting_normalises_layout():
    messy = "genome g on conv{adf a=add sep3x3 pw|h1 h2 h2 h1 #c\ncell normal=cat a a|a a a a\n\n\n" \
            "  cell reduction = add(a,a)}"
    text = format_file(parse_text(messy))
    assert text == (
        "genome g on conv {\n"
        "    adf a          = add sep3x3 pw | h1 h2 h2 h1  #c\n"
        "    cell normal    = cat a a | a a a a\n"
        "\n"
        "    cell reduction = add(a, a)\n"
        "}\n")
    assert format_genome(parse_text(text).genomes[0]) == text


def test_compiled_and_pure_python_parsers_agree():
    from genelang.compiler import parser
    pure = parser._make_parser(fast=False)
    golden = sorted(Path(__file__).parent.joinpath("golden").glob("*.gene"))
    for path in EXAMPLES + golden:
        text = path.read_text()
        fast_gf, fast_err = _parse_with(parser, parser._PARSER, text)
        pure_gf, pure_err = _parse_with(parser, pure, text)
        assert fast_gf == pure_gf and fast_err == pure_err, path.name


def _parse_with(parser, lark_parser, text):
    from genelang.errors import GenelangError
    saved, parser._PARSER = parser._PARSER, lark_parser
    try:
        return parser.parse_text(text), None
    except GenelangError as e:
        return None, [d.render() for d in e.diagnostics]
    finally:
        parser._PARSER = saved
