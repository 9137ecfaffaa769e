"""One diagnostic per problem, with the caret on the symbol the text holds,
whatever padding the nested-call form adds to the gene's tail."""
from genelang.compiler import check_file, parse_text


def diags(text: str):
    return [(d.code, d.message, d.location.line, d.location.col) for d in check_file(parse_text(text))]


def test_an_unknown_symbol_in_a_nested_call_is_reported_once_at_its_column():
    text = "genome g on rnn {\n    state q = relu(linear(y))\n}\n"
    assert diags(text) == [("unknown", "unknown symbol 'y'", 2, 27)]


def test_a_later_adf_in_a_nested_call_is_reported_once_at_its_column():
    text = ("genome g on conv {\n"
            "    adf a1 = sep3x3 | h1 h2\n"
            "    adf a2 = sep3x3(add(h1, a3))\n"
            "    adf a3 = sep3x3 | h1 h2\n"
            "    cell normal = cat(a1, a2)\n"
            "    cell reduction = add(a1, a3)\n"
            "}\n")
    assert diags(text) == [("order", "ADF 'a3' is defined after 'a2'", 3, 29)]


def test_each_written_occurrence_keeps_its_own_caret():
    text = "genome g on rnn {\n    state q = add y y | y y y\n}\n"
    assert [d[3] for d in diags(text) if d[0] == "unknown"] == [19, 21, 25, 27, 29]


def test_a_genome_made_by_a_program_reports_a_problem_once():
    from genelang.compiler.ast import Gene, Genome
    from genelang.compiler.check import check_genome
    genome = Genome("g", "rnn", (Gene("state", "q", ("relu", "linear"), ("y",) * 5),))
    assert [d.message for d in check_genome(genome)] == ["unknown symbol 'y'"]
