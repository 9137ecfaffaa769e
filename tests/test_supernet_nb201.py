"""The nb201 space's supernet through the space hook, isomorphism-aware
sampling and few-shot splits (issue 23's recipes), on any fixed-layout space."""
import itertools
import random
from collections import Counter

import pytest
import torch

from genelang.compiler.nb201 import OPS, computation, genome_from_key, genome_from_ops, ops_of
from genelang.compiler.registry import get_space
from genelang.compiler.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.nb201_network import NB201Network
from genelang.runtime.supernet import StrictFair
from genelang.runtime.supernet.sampling import Distinct


def _template():
    class SpaceSpec:
        space = "nb201"
    return Template.from_spec(SpaceSpec())


@pytest.fixture(scope="module")
def supernet():
    torch.manual_seed(0)
    return get_space("nb201").builder("supernet")(_template(), ModelConfig(), num_classes=10, input_shape=(3, 8, 8))


@pytest.mark.parametrize("key", ["333132", "012340", "444444"])
def test_a_path_computes_what_the_table_network_computes(supernet, key):
    genome = genome_from_key(key)
    path = supernet.path(genome).eval()
    alone = NB201Network(genome).eval()
    alone.load_state_dict(path.state_dict())          # strict: every module has its shared block
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(path(x), alone(x), rtol=0, atol=1e-5)
    assert sum(p.numel() for p in path.parameters()) == sum(p.numel() for p in alone.parameters())


def test_two_paths_share_the_blocks_of_their_common_edges(supernet):
    a = dict(supernet.path(genome_from_key("333132")).named_parameters())
    b = dict(supernet.path(genome_from_key("333133")).named_parameters())
    shared = [n for n in a if n in b]
    assert shared and all(a[n] is b[n] for n in shared)


def test_strict_fair_covers_every_edge_and_operation_in_one_group(supernet):
    group = StrictFair(supernet.shape).next_group(random.Random(0))
    assert len(group) == len(OPS)
    for p in supernet.shape.genes[0].free:
        assert {s[0][p] for s in group} <= set(OPS)
    ops = [ops_of(supernet.shape.genome(s)) for s in group]
    assert all(sorted(col) == sorted(OPS) for col in zip(*ops))


def test_computation_merges_spellings_of_one_network_and_only_those():
    a = ("skip_connect", "none", "nor_conv_3x3", "none", "none", "nor_conv_1x1")   # conv1(conv3(skip(x)))
    same = [
        ("none", "nor_conv_3x3", "none", "none", "none", "nor_conv_1x1"),           # skip read as its input
        ("none", "nor_conv_3x3", "avg_pool_3x3", "none", "none", "nor_conv_1x1"),   # 1->2 reads a node no edge feeds
        ("skip_connect", "none", "nor_conv_3x3", "none", "none", "nor_conv_1x1"),
    ]
    assert {computation(o) for o in same} == {computation(a)}
    other = [
        ("none", "nor_conv_3x3", "none", "none", "none", "avg_pool_3x3"),           # another op
        ("skip_connect", "nor_conv_3x3", "nor_conv_3x3", "none", "none", "nor_conv_1x1"),   # a sum
        ("skip_connect", "none", "nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1"),   # a skip to the output
    ]
    assert len({computation(o) for o in other} | {computation(a)}) == 4
    assert computation(("none",) * 6) == "" and computation(("skip_connect",) + ("none",) * 5) == ""
    # sums commute
    e = ("nor_conv_1x1", "nor_conv_3x3", "none", "none", "skip_connect", "skip_connect")
    f = ("nor_conv_3x3", "nor_conv_1x1", "none", "none", "skip_connect", "skip_connect")
    assert computation(e) == computation(f)


def test_distinct_sampling_never_draws_one_computation_twice_in_a_group(supernet):
    sampler = Distinct(supernet.shape)
    assert sum(len(c) for c in sampler.classes) == len(OPS) ** 6
    rng = random.Random(1)
    for _ in range(50):
        group = sampler.next_group(rng)
        seen = [supernet.shape.computation(s) for s in group]
        assert len(group) == sampler.m == len(OPS) and len(set(seen)) == len(seen)
    # computations are drawn uniformly, not by how many genomes spell them
    big = max(sampler.classes, key=len)
    draws = Counter(supernet.shape.computation(s) for _ in range(400) for s in sampler.next_group(rng))
    assert draws[supernet.shape.computation(big[0])] < 10     # 341 spellings of "zero"; 1/5773 of the draws


def test_few_shot_splits_cover_the_space_exactly_once(supernet):
    shape = supernet.shape
    gene, pos = 0, shape.genes[0].free[0]
    parts = shape.splits(gene, pos)
    assert len(parts) == len(OPS)
    seen = Counter(tuple(map(tuple, s)) for part in parts for s in part.genomes())
    assert len(seen) == len(OPS) ** 6 and set(seen.values()) == {1}
    every = {tuple(map(tuple, s)) for s in shape.genomes()}
    assert set(seen) == every
    with pytest.raises(ValueError, match="not a choice"):
        shape.restricted(gene, pos, "sep_conv_3x3")


def test_the_supernet_estimator_fits_the_spaces_with_a_supernet():
    from genelang.evolve.estimators import fitting
    assert "supernet" in fitting("nb201") and "supernet" in fitting("rnn") and "supernet" not in fitting("transformer")
