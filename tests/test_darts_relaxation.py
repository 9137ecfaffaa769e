"""The darts space relaxed (genelang/differentiable/darts.py): one-hot α is the
compiled genome, derivation is DARTS's genotype() rule, the derived genome
checks and builds, costs are the built network's, and `genelang evolve` with
strategy darts on the darts space ends in a stored genome and a working best.gene."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from genelang.compiler import load_file, load_text
from genelang.compiler.check import check_genome
from genelang.compiler.darts_import import import_darts
from genelang.compiler.darts_space import DARTS, EDGES, OPS, edge_ops, node_pairs
from genelang.compiler.registry import get_space
from genelang.differentiable import (ArchSample, Architecture, HardGumbel, PartialChannels, Softmax,
                                     get_relaxation)
from genelang.runtime.build import build_model
from genelang.runtime.networks import build_network
from tests.test_tasks import write_cifar

EX = Path(__file__).parents[1] / "examples" / "genotypes"
pytestmark = pytest.mark.usefixtures("one_thread")


def darts_v2():
    return load_file(EX / "darts_v2.gene").genomes[0]


def one_hot(genome) -> ArchSample:
    weights = [F.one_hot(torch.tensor(OPS.index(o)), len(OPS)).float() for o in edge_ops(genome)]
    return ArchSample(weights, [None] * len(EDGES), [None] * len(EDGES))


def _compiled_names(genome) -> dict[tuple[str, str], str]:
    """(node, input) → the compiled cell's module for that pair (`{node}_{karva index}_{op}`)."""
    return {(g.name, x): f"{g.name}_{i}_{o}" for g in genome.adfs for i, (o, x) in enumerate(node_pairs(g), 1)}


def test_one_hot_alpha_computes_what_the_compiled_genome_computes():
    torch.manual_seed(0)
    genome = darts_v2()
    relaxed = get_relaxation(DARTS).network(Softmax(), C=4, N=1, num_classes=10, in_channels=3)
    sample = one_hot(genome)
    with torch.no_grad():                 # move BatchNorm's running statistics off their start
        for _ in range(2):
            relaxed(torch.randn(8, 3, 32, 32), sample)
    built = build_network(genome, "darts", C=4, layers=5, num_classes=10)
    names, state = _compiled_names(genome), built.state_dict()
    copied = set()
    for key, value in relaxed.state_dict().items():
        parts = key.split(".")
        if parts[0] == "cells" and parts[2] == "edges":   # cells.i.edges.e.ops.o.rest → cells.i.{node}_{k}_{op}.rest
            edge = EDGES[relaxed.cells[int(parts[1])].positions[int(parts[3])]]
            module = names.get((edge.node, edge.input))
            if module is None or not module.endswith("_" + OPS[int(parts[5])]):
                continue                  # an op the genome does not hold: weighted 0
            key = ".".join(parts[:2] + [module] + parts[6:])
        state[key] = value
        copied.add(key)
    # what is not copied is BatchNorm's affine pair, off in the search, at its start (1, 0) in the genome
    for key in set(state) - copied:
        assert key.rsplit(".", 1)[1] in ("weight", "bias")
        assert torch.all(state[key] == (1.0 if key.endswith("weight") else 0.0)), key
    built.load_state_dict(state)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(relaxed.eval()(x, sample), built.eval()(x), atol=1e-5, rtol=1e-5)


def _darts_parse(weights):
    """quark0/darts model_search.py Network.genotype()'s _parse, as written there."""
    gene, n, start = [], 2, 0
    none = OPS.index("none")
    for i in range(4):
        W = weights[start:start + n]
        edges = sorted(range(i + 2), key=lambda x: -max(W[x][k] for k in range(len(W[x])) if k != none))[:2]
        for j in edges:
            k_best = None
            for k in range(len(W[j])):
                if k != none and (k_best is None or W[j][k] > W[j][k_best]):
                    k_best = k
            gene.append((OPS[k_best], j))
        start += n
        n += 1
    return gene


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derivation_is_darts_genotype_rule(seed):
    arch = Architecture([len(OPS)] * len(EDGES), seed=seed, scale=1.0)
    probs = [p.tolist() for p in arch.probs()]
    genotype = (f"Genotype(normal={_darts_parse(probs[:14])}, normal_concat=[2, 3, 4, 5], "
                f"reduce={_darts_parse(probs[14:])}, reduce_concat=[2, 3, 4, 5])")
    relax = get_relaxation(DARTS)
    derived = relax.genome(relax.ranked(arch, 1)[0])
    assert not check_genome(derived)
    space = get_space(DARTS)
    assert space.computation(derived) == space.computation(load_text(import_darts(genotype)).genomes[0])


def test_derivation_picks_the_planted_top_two_edges():
    arch = Architecture([len(OPS)] * len(EDGES), seed=0)
    planted = {("n2", "h2"): "sep_conv_3x3", ("n2", "h1"): "skip_connect", ("n3", "n2"): "dil_conv_5x5",
               ("n3", "h2"): "max_pool_3x3", ("n4", "n3"): "sep_conv_5x5", ("n4", "h1"): "avg_pool_3x3",
               ("n5", "n4"): "skip_connect", ("n5", "n2"): "sep_conv_3x3"}
    with torch.no_grad():
        for p, e in enumerate(EDGES):
            if (e.node, e.input) in planted:
                arch.alpha[p][OPS.index(planted[e.node, e.input])] = 2.0
            elif e.cell == "normal":
                arch.alpha[p][OPS.index("none")] = 5.0    # `none` never counts: these edges stay out
        arch.alpha[EDGES.index(next(e for e in EDGES if e.name == "n3:h1"))][OPS.index("sep_conv_3x3")] = 1.5
    derived = get_relaxation(DARTS).derive(arch)
    got = {(e.node, e.input): o for e, o in zip(EDGES, edge_ops(derived)) if o != "none" and e.cell == "normal"}
    assert got == planted
    net, x = build_model(derived, num_classes=10)
    assert net(x).shape == (2, 10)


def test_k_best_genomes_start_with_the_rule_and_are_distinct():
    arch = Architecture([len(OPS)] * len(EDGES), seed=4, scale=1.0)
    relax = get_relaxation(DARTS)
    ranked = relax.ranked(arch, 4)
    assert ranked[0] == relax.ranked(arch, 1)[0] and len({tuple(r) for r in ranked}) == 4
    assert all(not check_genome(relax.genome(r)) for r in ranked)


def test_costs_of_darts_v2_are_its_built_networks():
    grid = get_relaxation(DARTS).costs(num_classes=10, input_shape=(3, 32, 32))
    cost = grid.of([OPS.index(o) for o in edge_ops(darts_v2())])
    net = build_network(darts_v2(), "darts", C=36, layers=20, num_classes=10)
    assert cost.params == sum(p.numel() for p in net.parameters()) == 3_349_342    # DARTS's "3.3M"


@pytest.mark.parametrize("method", [Softmax(), HardGumbel(), PartialChannels(partial=2)],
                         ids=["darts", "gdas", "pc-darts"])
def test_every_method_runs_the_mixed_network_on_fashion_mnist_sizes_and_reaches_alpha(method):
    """28×28 grey images, reduced to 14 and 7 (PC-DARTS: the bypassed channels too)."""
    arch = Architecture([len(OPS)] * len(EDGES), get_relaxation(DARTS).groups if method.edge_normalisation else (),
                        seed=0)
    net = get_relaxation(DARTS).network(method, C=4, N=1, num_classes=3, in_channels=1)
    sample = method.sample(arch, torch.Generator().manual_seed(0), 0.0)
    out = net(torch.randn(2, 1, 28, 28), sample)
    assert out.shape == (2, 3)
    out.sum().backward()
    # GDAS: an edge that drew `none` outputs zeros, whose weight has no gradient
    reached = [a.grad is not None and bool(a.grad.abs().sum() > 0) for a in arch.alpha]
    assert reached == [c is None or OPS[c] != "none" for c in sample.chosen]


def test_evolve_darts_on_the_darts_space_stores_a_genome_and_best_gene_works(tmp_path):
    import sqlite3

    import yaml
    from click.testing import CliRunner

    from genelang.cli import cli
    write_cifar(tmp_path / "data", n=8)
    spec = {"run": {"name": "darts-space", "seed": 0, "out": str(tmp_path / "run")},
            "task": {"name": "cifar10", "root": str(tmp_path / "data"), "batch_size": 8, "val": 8},
            "space": {"space": "darts"},
            "model": {"skeleton": "darts", "C": 4, "layers": 5},
            "strategy": {"name": "darts", "options": {"epochs": 1, "C": 4, "N": 1}},
            "fitness": {"estimator": "train", "epochs": 1},
            "execution": {"threads": 1}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(cli, ["evolve", str(tmp_path / "spec.yaml")])
    assert res.exit_code == 0, res.output
    run_dir = tmp_path / "run"
    rows = list(sqlite3.connect(run_dir / "results.sqlite").execute("SELECT status, genome FROM evaluations"))
    assert [status for status, _ in rows] == ["ok"]
    stored = load_text(rows[0][1], "<stored>").genomes[0]
    assert stored.space == DARTS and not check_genome(stored)
    best = load_file(run_dir / "best.gene").genomes[0]
    assert best.genes == stored.genes
    net, x = build_model(best, num_classes=10)
    assert net(x).shape == (2, 10)
    last = json.loads((run_dir / "differentiable" / "alpha_history.json").read_text())["epochs"][-1]
    assert load_text(last["genome"], "<history>").genomes[0].genes == stored.genes    # DARTS's rule
    assert 0 <= last["skip_share"] <= 1
