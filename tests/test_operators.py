"""GEP operators over populations keep genomes valid and change what their
definitions say, row by row."""
import random

import numpy as np
import pytest

from genelang.compiler import check_genome, karva
from genelang.compiler.dag import main_graph
from genelang.compiler.registry import arity_fn
from genelang.evolve.genome import operators as ops
from genelang.evolve.genome.codec import Codec
from genelang.evolve.spec.schema import Operators, SpaceSpec
from genelang.compiler.template import Template

CONV = Template.from_spec(SpaceSpec(space="conv", adfs=3, adf_head=3, main_head=3))
RNN = Template.from_spec(SpaceSpec(space="rnn", adfs=2, adf_head=3, main_head=4, states=["h", "c"]))
CC = Codec.of(CONV)


def population(t: Template, n: int, seed: int, valid: bool = False) -> np.ndarray:
    rng = random.Random(seed)
    draw = t.random if valid else t.random_symbols
    return Codec.of(t).encode([draw(rng) for _ in range(n)])


def genes(c: Codec, row: np.ndarray) -> list[np.ndarray]:
    return [row[o:o + n] for o, n in zip(c.starts, c.lengths)]


def test_codec_round_trips_and_knows_domains():
    rng = random.Random(0)
    pop = [CONV.random_symbols(rng) for _ in range(20)]
    X = CC.encode(pop)
    assert CC.decode(X) == pop and CC.in_domains(X).all()
    bad = X.copy()
    bad[0, CC.width - 1] = CC.index["add"]     # a function in a tail
    assert not CC.in_domains(bad)[0] and CC.in_domains(bad)[1:].all()


@pytest.mark.parametrize("t", [CONV, RNN], ids=["conv", "rnn"])
def test_thousands_of_operator_applications_stay_valid(t):
    c = Codec.of(t)
    X = population(t, 8, 0, valid=True)
    rates = Operators(mutation=0.1, inversion=0.5, is_transposition=0.5, ris_transposition=0.5,
                      gene_transposition=0.5, one_point=0.5, two_point=0.5, gene_recombination=0.5)
    rng = np.random.default_rng(0)
    for _ in range(150):
        order = rng.permutation(8)
        P = np.concatenate([X[order[:4]], X[order[4:]]])
        A, B = ops.reproduce(X[order[:4]], X[order[4:]], c, rates, rng)
        Y = ops.keep_valid(np.concatenate([A, B]), P, c)
        assert c.in_domains(Y).all()
        for syms in c.decode(Y):
            assert not check_genome(t.genome(syms))
        X = Y


@pytest.mark.parametrize("op", [ops.invert, ops.is_transpose, ops.ris_transpose, ops.gene_transpose,
                                lambda X, c, r: ops.mutate(X, c, 0.2, r),
                                lambda X, c, r: ops.mutate_one(X, c, r)])
def test_unary_operators_respect_domains_and_leave_their_input_alone(op):
    X = population(CONV, 1500, 1)
    before = X.copy()
    Y = op(X, CC, np.random.default_rng(1))
    assert CC.in_domains(Y).all() and np.array_equal(X, before) and not np.array_equal(X, Y)


def test_where_selects_the_rows_an_operator_touches():
    X = population(CONV, 400, 2)
    where = np.arange(400) % 2 == 0
    for op in (ops.invert, ops.is_transpose, ops.ris_transpose, ops.gene_transpose):
        Y = op(X, CC, np.random.default_rng(2), where)
        assert np.array_equal(X[~where], Y[~where]) and not np.array_equal(X[where], Y[where])
    A, B = ops.one_point(X, X[::-1], np.random.default_rng(2), where)
    assert np.array_equal(A[~where], X[~where])


def test_mutation_rate_zero_changes_nothing_and_one_changes_much():
    X = population(CONV, 50, 3)
    rng = np.random.default_rng(3)
    assert np.array_equal(ops.mutate(X, CC, 0.0, rng), X)
    assert (ops.mutate(X, CC, 1.0, rng) != X).mean() > 1 / 3


def test_mutation_draws_each_domain_uniformly():
    X = population(CONV, 4000, 4)
    Y = ops.mutate(X, CC, 1.0, np.random.default_rng(4))
    col = 0                                   # the first head position: functions and terminals
    counts = np.bincount(Y[:, col], minlength=len(CC.symbols))[CC.domain[col, :CC.domain_size[col]]]
    assert counts.min() > 0.7 * counts.mean()


def test_mutate_one_changes_exactly_one_symbol():
    X = population(CONV, 500, 5, valid=True)
    Y = ops.mutate_one(X, CC, np.random.default_rng(5))
    assert ((Y != X).sum(axis=1) == 1).all()


def test_inversion_only_reverses_a_head_segment():
    X = population(CONV, 500, 6)
    Y = ops.invert(X, CC, np.random.default_rng(6))
    for x, y in zip(X, Y):
        changed = 0
        for h, g, k in zip(CC.heads, genes(CC, x), genes(CC, y)):
            assert np.array_equal(g[h:], k[h:]) and sorted(g[:h]) == sorted(k[:h])
            diff = np.flatnonzero(g[:h] != k[:h])
            if len(diff):
                changed += 1
                a, b = diff[0], diff[-1]
                assert np.array_equal(k[a:b + 1], g[a:b + 1][::-1])
        assert changed <= 1


def test_is_transposition_keeps_root_and_tail():
    X = population(CONV, 500, 7)
    Y = ops.is_transpose(X, CC, np.random.default_rng(7))
    for x, y in zip(X, Y):
        for h, g, k in zip(CC.heads, genes(CC, x), genes(CC, y)):
            assert g[0] == k[0] and np.array_equal(g[h:], k[h:])


def test_ris_transposition_puts_a_function_at_the_root():
    X = population(CONV, 500, 8)
    Y = ops.ris_transpose(X, CC, np.random.default_rng(8))
    hits = 0
    for x, y in zip(X, Y):
        for h, g, k in zip(CC.heads, genes(CC, x), genes(CC, y)):
            if not np.array_equal(g, k):
                hits += 1
                assert CC.arity[k[0]] > 0 and np.array_equal(g[h:], k[h:])
                assert k[0] in g[:h][CC.arity[g[:h]] > 0]
    assert hits > 200


def test_recombination_conserves_symbols_per_position():
    rng = np.random.default_rng(9)
    A, B = population(CONV, 300, 9), population(CONV, 300, 10)
    for op in (ops.one_point, ops.two_point, lambda a, b, r: ops.gene_recombination(a, b, CC, r)):
        CA, CB = op(A, B, rng)
        assert (((CA == A) & (CB == B)) | ((CA == B) & (CB == A))).all()
        assert not np.array_equal(CA, A)


def test_gene_transposition_swaps_the_cells():
    X = population(CONV, 50, 11)
    Y = ops.gene_transpose(X, CC, np.random.default_rng(11))
    (cells,) = CC.swappable
    a, b = cells
    sa = slice(CC.starts[a], CC.starts[a] + CC.lengths[a])
    sb = slice(CC.starts[b], CC.starts[b] + CC.lengths[b])
    assert np.array_equal(Y[:, sa], X[:, sb]) and np.array_equal(Y[:, sb], X[:, sa])
    assert np.array_equal(Y[:, :CC.starts[a]], X[:, :CC.starts[a]])


def test_array_decoding_matches_karva_trees():
    X = population(RNN, 200, 12)
    c = Codec.of(RNN)
    orf, first_child = ops.decode(X, c)
    arity = arity_fn(RNN.space)
    for row, syms in zip(range(len(X)), c.decode(X)):
        for g, gene in enumerate(syms):
            tree = karva.decode(gene, arity)
            nodes = list(tree.walk())
            assert orf[row, g] == len(nodes)
            for node in nodes:
                if node.children:
                    assert node.children[0].index == first_child[row, c.starts[g] + node.index]


def test_separate_gene_pools_keep_cells_apart():
    t = Template.from_spec(SpaceSpec(space="conv", adfs=4, adf_head=2, main_head=3, separate_pools=True))
    slots = {s.name: s for s in t.slots}
    assert set(slots) == {"n1", "n2", "r1", "r2", "normal", "reduction"}
    assert set(slots["normal"].terminals) == {"n1", "n2"}
    assert set(slots["reduction"].terminals) == {"r1", "r2"}
    assert set(slots["r2"].terminals) == {"h1", "h2", "r1"}
    c = Codec.of(t)
    assert not any({4, 5} <= set(g) for g in c.swappable)   # the cells read different pools: never swapped
    X = population(t, 8, 13, valid=True)
    rng = np.random.default_rng(13)
    for _ in range(50):
        A, B = ops.reproduce(X[:4], X[4:], c, Operators(one_point=1.0, mutation=0.2), rng)
        X = ops.keep_valid(np.concatenate([A, B]), X, c)
        for syms in c.decode(X):
            g = t.genome(syms)
            assert not check_genome(g)
            assert all(n.startswith("n") for n, _ in main_graph(g, "normal").adfs)
            assert all(n.startswith("r") for n, _ in main_graph(g, "reduction").adfs)
