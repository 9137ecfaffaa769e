import pytest

from genelang.compiler import load_text
from genelang.compiler.opsets import DARTS_OPS, NASGEP_SIZES
from genelang.compiler.registry import ADF, MAIN, Op, get_space, register_op, unregister_op
from genelang.errors import CheckError


@pytest.fixture
def conv_space():
    space = get_space("conv")
    saved = set(space.ops)
    yield space
    for name in set(space.ops) - saved:
        unregister_op("conv", name)


def test_builtin_sets_are_registered():
    conv = get_space("conv").ops
    for size in NASGEP_SIZES:
        for kind in ("dw", "sep", "isep"):
            assert conv[f"{kind}{size}"].arity == 1
    assert conv["pw"].arity == 1
    assert all(conv[n].arity == 1 for n in DARTS_OPS)
    assert conv["add"].arity == conv["cat"].arity == 2 and MAIN in conv["cat"].roles
    rnn = get_space("rnn").ops
    assert rnn["blend"].arity == 3 and rnn["cat_linear"].arity == 2
    for name in ("add", "mul", "linear", "sigmoid", "tanh", "relu", "leaky_relu",
                 "identity", "layer_norm"):
        assert name in rnn


def test_a_user_op_is_usable_without_touching_the_parser(conv_space):
    text = "genome g on conv {\n    adf a = my_gate | h1 h2\n" \
           "    cell normal = cat | a a\n    cell reduction = add | a a\n}\n"
    with pytest.raises(CheckError) as e:
        load_text(text)
    assert "unknown symbol 'my_gate'" in str(e.value)
    register_op(Op("my_gate", 3, "conv", frozenset({ADF}), doc="a ternary op"))
    # a 3-ary op raises the space's max arity: tails must grow, and the checker says so
    with pytest.raises(CheckError) as e:
        load_text(text)
    assert "tail too short" in str(e.value)
    ok = text.replace("| h1 h2\n", "| h1 h2 h1\n") \
             .replace("cat | a a", "cat | a a a").replace("add | a a", "add | a a a")
    gf = load_text(ok)
    assert gf.genomes[0].adfs[0].head == ("my_gate",)


def test_registering_twice_is_refused(conv_space):
    with pytest.raises(ValueError):
        register_op(Op("pw", 1, "conv"))
