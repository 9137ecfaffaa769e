"""The built-in chain spaces (proxyless, fbnet, spos): genomes round-trip and
check with located errors, the search layout draws only valid genomes, the
cost model prices what the network has, a supernet path computes what the
compiled genome computes, every space compiles to TorchScript."""
import random

import pytest
import torch

from genelang.compiler import check_file, format_file, load_text, parse_text
from genelang.compiler.registry import get_space
from genelang.compiler.template import Template
from genelang.runtime.build import build_model
from genelang.runtime.chain.costs import chain_table
from genelang.runtime.chain.network import network
from genelang.runtime.chain.supernet import supernet
from genelang.runtime.config import ModelConfig

SPACES = ("proxyless", "fbnet", "spos")
TINY = ModelConfig(C=4, skeleton="mnist")      # width multiplier 1/4, 28×28 preset


def template(space: str) -> Template:
    class SpaceSpec:
        pass
    SpaceSpec.space = space
    return Template.from_spec(SpaceSpec())


def random_genome(space: str, seed: int = 0):
    t = template(space)
    return t.genome(t.random(random.Random(seed)), name="r")


PROXYLESS = """genome m on proxyless {
    cell s1 = skip skip mb3e3 mb5e3 | x
    cell s2 = mb5e3 mb5e3 mb3e3 mb7e3 | s1
    cell s3 = mb5e3 mb5e3 mb5e3 mb7e6 | s2
    cell s4 = mb5e3 mb5e3 mb5e3 mb5e6 | s3
    cell s5 = mb7e3 mb7e3 mb7e6 mb7e6 | s4
    cell s6 = mb7e6 | s5
}
"""


def test_a_chain_genome_round_trips_and_reads_last_layer_first():
    from genelang.compiler.chain_space import layer_blocks
    gf = load_text(PROXYLESS)
    assert format_file(gf) == PROXYLESS
    assert layer_blocks(gf.genomes[0])[:4] == ["mb5e3", "mb3e3", "skip", "skip"]


@pytest.mark.parametrize("edit, message, line_col", [
    (("cell s2 = mb5e3 mb5e3 mb3e3 mb7e3", "cell s2 = mb5e3 mb5e3 mb3e3 skip"),
     "layer 1 of stage s2 changes the width 32 → 40 and cannot be skipped", (3, 33)),
    (("cell s6 = mb7e6", "cell s6 = skip"), "layer 1 of stage s6 changes the width 192 → 320", (7, 15)),
    (("cell s3 = mb5e3 mb5e3 mb5e3 mb7e6", "cell s3 = mb5e3 mb5e3 mb7e6"),
     "stage s3 has 3 layers; the proxyless space has 4", (4, 10)),
    (("| s3\n", "| s2\n"), "stage s4 reads s3, not s2", (5, 41)),
])
def test_chain_check_errors_are_located(edit, message, line_col):
    diags = check_file(parse_text(PROXYLESS.replace(*edit)))
    assert len(diags) == 1, diags
    (d,) = diags
    assert message in d.message and (d.location.line, d.location.col) == line_col
    assert d.hint


def test_an_unknown_block_is_named_with_a_suggestion():
    diags = check_file(parse_text(PROXYLESS.replace("mb7e6 | s5", "mb9e6 | s5")))
    assert any(d.message == "unknown symbol 'mb9e6'" and "did you mean" in d.hint for d in diags)
    spos = check_file(parse_text(open("examples/genotypes/spos-best.gene").read().replace("xception |", "skip |")))
    assert any("'skip' is an operation of the" in d.message for d in spos)   # SPOS has no skip


@pytest.mark.parametrize("space", SPACES)
def test_the_search_layout_draws_valid_genomes_priced_as_built(space):
    t, rng = template(space), random.Random(1)
    for _ in range(3):
        genome = t.genome(t.random(rng))
        assert t.is_valid(t.symbols(genome))
        net = network(genome, TINY, num_classes=10, input_shape=(1, 28, 28))
        cost = chain_table(space, TINY.skeleton, TINY.C, 10, (1, 28, 28)).cost(genome)
        assert cost.params == sum(p.numel() for p in net.parameters())
        assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("space", SPACES)
def test_a_supernet_path_computes_what_the_compiled_genome_computes(space):
    torch.manual_seed(0)
    net = supernet(template(space), TINY, num_classes=10, input_shape=(1, 28, 28))
    genome = random_genome(space, 3)
    path = net.path(genome).eval()
    alone = network(genome, TINY, num_classes=10, input_shape=(1, 28, 28)).eval()
    alone.load_state_dict(path.state_dict())
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(path(x), alone(x))


@pytest.mark.parametrize("space", SPACES)
def test_every_skeleton_builds_and_scripts(space, tmp_path):
    genome = random_genome(space, 5)
    for skeleton, shape in (("cifar", (3, 32, 32)), ("mnist", (1, 28, 28))):
        model, x = build_model(genome, ModelConfig(C=4, skeleton=skeleton), input_shape=shape)
        scripted = torch.jit.script(model)
        torch.testing.assert_close(scripted(x), model(x))
    assert get_space(space).skeletons == ("cifar", "mnist", "imagenet")


@pytest.mark.parametrize("space", SPACES)
def test_skeleton_presets_scale_the_resolution_and_widths(space):
    from genelang.runtime.chain.plan import plan_of
    for skeleton, size, final in (("imagenet", 224, 7), ("cifar", 32, 4), ("mnist", 28, 7)):
        plan = plan_of(space, ModelConfig(skeleton=skeleton), (3, size, size))
        assert plan.final_hw == (final, final), skeleton
    half = plan_of(space, ModelConfig(C=8), (3, 32, 32))
    full = plan_of(space, ModelConfig(C=16), (3, 32, 32))
    assert all(h.c_out <= f.c_out and h.c_out % 8 == 0 for h, f in zip(half.layers, full.layers))
    assert half.head_out == full.head_out // 2


def test_naswot_reads_relu6_codes_of_proxyless_networks():
    """proxyless's MBConvs use ReLU6: naswot scored every such network 0 when it hooked ReLU only."""
    from genelang.runtime.proxies import naswot
    torch.manual_seed(0)
    x = torch.randn(8, 1, 28, 28)
    scores = [naswot(network(random_genome("proxyless", s), ModelConfig(C=4, skeleton="mnist"), num_classes=10,
                             input_shape=(1, 28, 28)), x) for s in range(2)]
    assert all(s > 0 for s in scores) and scores[0] != scores[1]
