from hypothesis import given, settings
from hypothesis import strategies as st

from genelang.compiler import karva
from genelang.compiler.registry import arity_fn
from tests.strategies import trees

CONV = arity_fn("conv")
RNN = arity_fn("rnn")


def test_decode_reads_breadth_first_and_ignores_noncoding():
    tree = karva.decode("add sep3x3 dw5x5 h1 h2 h1 h2".split(), CONV)
    assert str(tree) == "add(sep3x3(h1), dw5x5(h2))"
    assert karva.orf_length("add sep3x3 dw5x5 h1 h2 h1 h2".split(), CONV) == 5


def test_terminal_head_is_a_one_symbol_tree():
    assert str(karva.decode(["h2", "h1", "h1"], CONV)) == "h2"


def test_incomplete_orf_is_reported():
    try:
        karva.orf_length(["add", "h1"], CONV)
    except karva.IncompleteORF as e:
        assert "1 more symbol" in str(e)
    else:
        raise AssertionError("expected IncompleteORF")


def test_encode_has_gep_tail_length():
    tree = karva.decode("blend tanh x x x x x x x x".split(), RNN)
    head, tail = karva.encode(tree, RNN, 3)
    assert head == ("blend", "tanh") and len(tail) == 2 * 2 + 1
    head, tail = karva.encode(tree, RNN, 3, head_len=4)
    assert len(head) == 4 and len(tail) == 9


@settings(max_examples=300)
@given(trees())
def test_decode_inverts_encode(tree):
    head, tail = karva.encode(tree, CONV, 2)
    assert len(tail) == karva.tail_length(len(head), 2)
    assert karva.decode(head + tail, CONV) == tree


@settings(max_examples=200)
@given(trees(), st.integers(0, 3))
def test_padding_the_head_keeps_the_tree(tree, extra):
    h = len(karva.encode(tree, CONV, 2)[0]) + extra
    head, tail = karva.encode(tree, CONV, 2, head_len=h)
    assert len(head) == h
    assert karva.decode(head + tail, CONV) == tree
