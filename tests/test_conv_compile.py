import pytest
import torch
from torch import nn

from genelang.compiler import load_text
from genelang.compiler.lower_conv import CellSpec, lower_cell
from genelang.compiler.registry import ADF, Op, get_space, register_op, unregister_op
from genelang.runtime.networks import build_network

torch.set_num_threads(1)
UNARY = sorted(n for n, op in get_space("conv").ops.items() if op.arity == 1)


def one_op(op: str):
    return load_text(f"genome g on conv {{\n adf a = {op}(h1)\n cell normal = cat(a, a)\n"
                     f" cell reduction = add(a, a)\n}}\n").genomes[0]


@pytest.mark.parametrize("op", UNARY)
def test_every_conv_op_at_stride_1_and_2(op):
    g = one_op(op)
    for reduction, size in ((False, 8), (True, 4)):
        cell, mult = lower_cell(g, "reduction" if reduction else "normal",
                                CellSpec(6, 6, 6, reduction, False))
        out = cell(torch.randn(2, 6, 8, 8), torch.randn(2, 6, 8, 8))
        assert out.shape == (2, 6 * mult, size, size)
        assert mult == (1 if reduction else 2)


def test_an_adf_used_twice_is_computed_once():
    g = load_text("""genome g on conv {
        adf a = sep3x3(h1)
        adf b = add(pw(a), a)
        cell normal = cat(add(a, b), a)
        cell reduction = add(a, b)
    }""").genomes[0]
    cell, mult = lower_cell(g, "normal", CellSpec(4, 4, 4, False, False))
    calls = [n.target for n in cell.graph.nodes if n.op == "call_module"]
    assert calls.count("a_0_sep3x3") == 1 and calls.count("b_1_pw") == 1
    assert mult == 2   # root cat of two leaves
    assert "preprocess0" not in calls   # h2 is never read


def test_nested_cat_inside_an_adf_is_projected_back_to_C():
    g = load_text("""genome g on conv {
        adf a = cat(sep3x3(h1), cat(pw(h2), dw3x3(h1)))
        cell normal = add(a, a)
        cell reduction = add(a, a)
    }""").genomes[0]
    cell, mult = lower_cell(g, "normal", CellSpec(4, 4, 4, False, False))
    assert mult == 1
    assert cell(torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6)).shape == (1, 4, 6, 6)
    assert sum(isinstance(m, nn.Conv2d) and m.in_channels == 12 for m in cell.modules()) == 1


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_nasgep_skeleton_on_mnist_and_cifar_shapes(shape):
    g = load_text(open("examples/genotypes/nasgep_demo.gene").read()).genomes[0]
    net = build_network(g, "nasgep", C=4, N=1, in_channels=shape[0], num_classes=7)
    assert net(torch.randn(2, *shape)).shape == (2, 7)
    reductions = [c for c in net.cells if type(c).__name__ == "ReductionCell"]
    assert len(reductions) == 2


def test_drop_path_only_in_training():
    g = one_op("sep3x3")
    net = build_network(g, "nasgep", C=4, N=1, drop_path=0.5)
    x = torch.randn(8, 3, 16, 16)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    torch.manual_seed(0)
    a = net(x)
    torch.manual_seed(1)
    assert not torch.allclose(a, net(x))


def test_cells_script_and_export():
    g = load_text(open("examples/genotypes/nasgep_demo.gene").read()).genomes[0]
    net = build_network(g, "nasgep", C=4, N=1).eval()
    x = torch.randn(2, 3, 16, 16)
    scripted = torch.jit.script(net)
    torch.testing.assert_close(scripted(x), net(x))
    exported = torch.export.export(net, (x,))
    torch.testing.assert_close(exported.module()(x), net(x))


def test_a_user_registered_op_compiles_without_compiler_edits():
    space = get_space("conv")
    saved = set(space.ops)
    try:
        register_op(Op("gelu_conv", 1, "conv", frozenset({ADF}),
                       builder=lambda C, stride, affine: nn.Sequential(nn.GELU(), nn.Conv2d(C, C, 3, stride, 1))))
        g = one_op("gelu_conv")
        cell, _ = lower_cell(g, "reduction", CellSpec(4, 4, 4, True, False))
        assert any(isinstance(m, nn.GELU) for m in cell.modules())
        assert cell(torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)).shape == (1, 4, 4, 4)
    finally:
        for name in set(space.ops) - saved:
            unregister_op("conv", name)


def test_an_adf_that_is_only_an_input_is_read_at_stride_2_in_reduction():
    g = load_text("""genome g on conv {
        adf a1 = h1 | h2 h1
        adf a2 = add sep3x3 skip_connect | a1 h2 h1 h1
        cell normal = cat(a2, a1)
        cell reduction = add(a2, a2)
    }""").genomes[0]
    cell, _ = lower_cell(g, "reduction", CellSpec(4, 4, 4, True, False))
    assert cell(torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)).shape == (1, 4, 4, 4)


def test_every_valid_random_genome_builds_a_network():
    """Whatever the checker accepts compiles and runs (reductions line up)."""
    import random
    from genelang.evolve.spec.schema import SpaceSpec
    from genelang.compiler.template import Template
    t = Template.from_spec(SpaceSpec(space="conv", adfs=4, adf_head=2, main_head=3))
    rng = random.Random(0)
    x = torch.randn(2, 1, 12, 12)
    for _ in range(60):
        net = build_network(t.genome(t.random(rng)), "nasgep", C=2, N=1, in_channels=1)
        assert net(x).shape == (2, 10)
