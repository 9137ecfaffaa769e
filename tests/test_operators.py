"""GEP operators keep genomes valid and change what their definitions say."""
import random

import pytest

from genelang.compiler import check_genome
from genelang.evolve import operators as ops
from genelang.evolve.spec import Operators, SpaceSpec
from genelang.evolve.template import Template

CONV = Template.from_spec(SpaceSpec(space="conv", adfs=3, adf_head=3, main_head=3))
RNN = Template.from_spec(SpaceSpec(space="rnn", adfs=2, adf_head=3, main_head=4, states=["h", "c"]))


def in_domains(t: Template, syms) -> bool:
    return all(len(g) == s.head_len + s.tail_len and all(x in s.domain(i) for i, x in enumerate(g))
               for s, g in zip(t.slots, syms))


@pytest.mark.parametrize("t", [CONV, RNN], ids=["conv", "rnn"])
def test_thousands_of_operator_applications_stay_valid(t):
    rng = random.Random(0)
    pop = [t.random(rng) for _ in range(8)]
    rates = Operators(mutation=0.1, inversion=0.5, is_transposition=0.5, ris_transposition=0.5,
                      gene_transposition=0.5, one_point=0.5, two_point=0.5, gene_recombination=0.5)
    for _ in range(600):
        a, b = rng.sample(range(len(pop)), 2)
        ca, cb = ops.apply_operators(pop[a], pop[b], t, rates, rng)
        for c in (ca, cb):
            assert in_domains(t, c)
            assert not check_genome(t.genome(c))
        pop[a], pop[b] = ca, cb


@pytest.mark.parametrize("op", [ops.invert, ops.is_transpose, ops.ris_transpose, ops.gene_transpose,
                                lambda s, t, r: ops.mutate(s, t, 0.2, r), ops.mutate_one])
def test_unary_operators_respect_domains(op):
    rng = random.Random(1)
    for _ in range(1500):
        s = CONV.random_symbols(rng)
        assert in_domains(CONV, op(s, CONV, rng))


def test_mutation_rate_zero_changes_nothing_and_one_changes_much():
    rng = random.Random(2)
    s = CONV.random(rng)
    assert ops.mutate(s, CONV, 0.0, rng) == s
    changed = sum(x != y for g, h in zip(s, ops.mutate(s, CONV, 1.0, rng)) for x, y in zip(g, h))
    assert changed > len([x for g in s for x in g]) // 3


def test_mutate_one_changes_exactly_one_symbol():
    rng = random.Random(3)
    for _ in range(200):
        s = CONV.random(rng)
        c = ops.mutate_one(s, CONV, rng)
        assert sum(x != y for g, h in zip(s, c) for x, y in zip(g, h)) == 1


def test_inversion_only_reverses_a_head_segment():
    rng = random.Random(4)
    for _ in range(200):
        s = CONV.random_symbols(rng)
        c = ops.invert(s, CONV, rng)
        for slot, g, h in zip(CONV.slots, s, c):
            assert g[slot.head_len:] == h[slot.head_len:]
            assert sorted(g[:slot.head_len]) == sorted(h[:slot.head_len])


def test_is_transposition_keeps_root_and_tail():
    rng = random.Random(5)
    for _ in range(200):
        s = CONV.random_symbols(rng)
        c = ops.is_transpose(s, CONV, rng)
        for slot, g, h in zip(CONV.slots, s, c):
            assert g[0] == h[0] and g[slot.head_len:] == h[slot.head_len:]


def test_ris_transposition_puts_a_function_at_the_root():
    rng = random.Random(6)
    hits = 0
    for _ in range(200):
        s = CONV.random_symbols(rng)
        c = ops.ris_transpose(s, CONV, rng)
        for slot, g, h in zip(CONV.slots, s, c):
            if g != h:
                hits += 1
                assert h[0] in slot.functions and g[slot.head_len:] == h[slot.head_len:]
    assert hits > 50


def test_recombination_conserves_symbols_per_position():
    rng = random.Random(7)
    for op in (ops.one_point, ops.two_point, ops.gene_recombination):
        for _ in range(200):
            a, b = CONV.random_symbols(rng), CONV.random_symbols(rng)
            ca, cb = op(a, b, rng)
            for ga, gb, gca, gcb in zip(a, b, ca, cb):
                for x, y, p, q in zip(ga, gb, gca, gcb):
                    assert {p, q} == {x, y}


def test_gene_transposition_swaps_the_cells():
    rng = random.Random(8)
    s = CONV.random(rng)
    c = ops.gene_transpose(s, CONV, rng)
    assert c[-1] == s[-2] and c[-2] == s[-1] and c[:-2] == s[:-2]


def test_separate_gene_pools_keep_cells_apart():
    t = Template.from_spec(SpaceSpec(space="conv", adfs=4, adf_head=2, main_head=3, separate_pools=True))
    slots = {s.name: s for s in t.slots}
    assert set(slots) == {"n1", "n2", "r1", "r2", "normal", "reduction"}
    assert set(slots["normal"].terminals) == {"n1", "n2"}
    assert set(slots["reduction"].terminals) == {"r1", "r2"}
    assert set(slots["r2"].terminals) == {"h1", "h2", "r1"}
    rng = random.Random(9)
    pop = [t.random(rng) for _ in range(4)]
    for _ in range(200):
        a, b = ops.apply_operators(pop[0], pop[1], t, Operators(one_point=1.0, mutation=0.2), rng)
        g = t.genome(a)
        assert not check_genome(g)
        from genelang.compiler.dag import main_graph
        assert all(n.startswith("n") for n, _ in main_graph(g, "normal").adfs)
        assert all(n.startswith("r") for n, _ in main_graph(g, "reduction").adfs)
        pop[0], pop[1] = a, b
