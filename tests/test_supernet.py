"""The supernet: a genome's path computes what its compiled network computes
given the same weights; training samples fairly and resumes after SIGKILL;
BN recalibration touches the path's running statistics only."""
import random
from collections import Counter
from pathlib import Path

import pytest
import torch

from genelang.compiler import load_text
from genelang.runtime.supernet import SupernetShape
from genelang.evolve.spec.schema import parse_spec
from genelang.compiler.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.networks import build_network
from genelang.runtime.supernet import StrictFair, Supernet, recalibrate_bn
from tests.evolve_helpers import kill_once_checkpointed
from tests.supernet_helpers import TRAINING, train

pytestmark = pytest.mark.usefixtures("one_thread")


OPS = ["add", "cat", "sep3x3", "dw3x3", "pw", "skip_connect", "max_pool_3x3", "none"]

NO_ZERO = [o for o in OPS if o != "none"]    # `none` outputs zeros: no gradient, no statistics to change


def tiny(adfs=3, adf_head=2, main_head=2, ops=OPS, C=4, N=1, skeleton="nasgep", share="position"):
    spec = parse_spec({"task": {"name": "digits"}, "model": {"C": C, "N": N, "skeleton": skeleton, "layers": 3},
                       "space": {"space": "conv", "adfs": adfs, "adf_head": adf_head, "main_head": main_head,
                                 "adf_functions": ops}})
    template = Template.from_spec(spec.space)
    _, model = spec.configs()
    return template, model, SupernetShape.of(template, model, num_classes=10, in_channels=1, share=share)


def _same_function(net: Supernet, genome, model: ModelConfig, x: torch.Tensor) -> None:
    path = net.path(genome).eval()
    alone = build_network(genome, model.skeleton, C=model.C, N=model.N, layers=model.layers, in_channels=1).eval()
    alone.load_state_dict(path.state_dict())    # strict: every compiled module has its block
    with torch.no_grad():
        torch.testing.assert_close(path(x), alone(x), rtol=0, atol=1e-5)
    shared, own = (sum(p.numel() for p in m.parameters()) for m in (path, alone))
    # a shared block counts once in a path that runs it twice
    assert shared == own if net.shape.share == "position" else shared <= own


@pytest.mark.parametrize("skeleton,share", [("nasgep", "position"), ("darts", "position"),
                                            ("nasgep", "gene"), ("darts", "cell")])
def test_a_path_computes_what_the_compiled_genome_computes(skeleton, share):
    torch.manual_seed(0)
    template, model, shape = tiny(skeleton=skeleton, share=share)
    net = Supernet(shape)
    for p in net.parameters():   # not the initial values: BN's affine must matter too
        p.data.normal_(0, 0.5)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(3, 1, 8, 8)
    rng = random.Random(1)
    for _ in range(12):
        _same_function(net, template.genome(template.random(rng)), model, x)


def test_sharing_gives_a_symbol_one_block_per_gene_or_per_cell():
    blocks = {share: Supernet(tiny(share=share)[2]).blocks for share in ("position", "gene", "cell")}
    assert len(blocks["position"]) > len(blocks["gene"]) > len(blocks["cell"])
    net = Supernet(tiny(share="gene")[2])
    twice = load_text(HAND.replace("adf a1 = sep3x3 h1 | h2 h1 h2", "adf a1 = sep3x3 sep3x3 | h2 h1 h2")).genomes[0]
    path = net.path(twice)
    runs = [m for m in path.cells[0].mods if m is net.block("c0.a1.sep3x3")]
    assert len(runs) == 2, "both positions of a1 run the gene's one sep3x3 block"
    assert sum(p.numel() for p in path.parameters()) < sum(
        p.numel() for p in Supernet(tiny()[2]).path(twice).parameters())


HAND = """genome hand on conv {
    adf a1 = sep3x3 h1 | h2 h1 h2
    adf a2 = cat pw | a1 a1 h1
    adf a3 = skip_connect h1 | h2 h2 h2
    cell normal = cat cat | a1 a2 a3 a3 a3
    cell reduction = cat add | a3 a1 a2 a3 a3
}"""


def test_a_reduction_cell_runs_stride_2_twins_and_a_root_cat_widens_the_next_cells():
    torch.manual_seed(0)
    template, model, shape = tiny()
    genome = load_text(HAND).genomes[0]
    net = Supernet(shape)
    plan = net.plan(genome)
    reduction = next(c for c, r in zip(plan.cells, shape.plan) if r)
    assert {"c1.a1.0.sep3x3.s2", "c1.a3.0.skip_connect.s2", "c1.a2.0.cat2"} <= set(reduction.keys)
    assert plan.cells[0].plan.multiplier == 3        # cat(cat(a2, a3), a1): one concatenation of 3
    assert "c1.pre1.12" in reduction.keys             # preprocessing by the channels the root cat made
    assert plan.classifier == "classifier.48"         # the last (normal) cell at C=4·2·2, 3 leaves
    _same_function(net, genome, model, torch.randn(2, 1, 8, 8))


def _live_keys(plan) -> list[str]:
    """Keys of the cells whose output reaches the classifier (a cell that neither
    of the next two reads computes, but for nothing)."""
    live = [False] * len(plan.cells)
    live[-1] = True
    for i in range(len(plan.cells) - 1, 0, -1):
        kinds = {st.kind for st in plan.cells[i].plan.steps} if live[i] else set()
        live[i - 1] |= "pre1" in kinds
        live[max(i - 2, 0)] |= "pre0" in kinds
    return [k for c, ok in zip(plan.cells, live) if ok for k in c.keys if k is not None] + plan.keys[-2:]


def test_strict_fair_trains_every_position_symbol_within_one_group():
    _, _, shape = tiny(ops=NO_ZERO)
    fair = StrictFair(shape)
    group = fair.next_group(random.Random(0))
    assert len(group) == fair.m and all(shape.is_valid(s) for s in group)
    for gi, gene in enumerate(shape.genes):
        for p, domain in enumerate(gene.domains):
            column = Counter(s[gi][p] for s in group)
            assert set(column) == set(domain)          # every allowed symbol, and only those
            if len(domain) == fair.m:
                assert set(column.values()) == {1}
    torch.manual_seed(0)
    net = Supernet(shape)
    x, y = torch.randn(4, 1, 8, 8), torch.randint(0, 10, (4,))
    for syms in group:
        torch.nn.functional.cross_entropy(net(x, shape.genome(syms)), y).backward()
    plans = [net.plan(shape.genome(syms)) for syms in group]
    ran = {k for plan in plans for k in plan.keys}
    live = {k for plan in plans for k in _live_keys(plan)}
    for key, block in net.blocks.items():
        grads = [p.grad for p in block.parameters()]
        if key.replace("/", ".") in live:
            # (some gradients are zero by design: a BN's scale feeding a dw conv and a BN)
            assert all(g is not None for g in grads) and (not grads or any(g.abs().sum() > 0 for g in grads)), key
        elif key.replace("/", ".") not in ran:
            assert all(g is None for g in grads), key
    assert sum(1 for k in ran if ".pre" not in k) > len(group)   # more blocks than paths: a real group


def _final_weights(out_dir: Path) -> dict:
    return torch.load(out_dir / "checkpoint.pt", weights_only=True)["model"]


def test_training_resumes_after_sigkill_to_the_weights_of_an_uninterrupted_run(tmp_path):
    shape = tiny()[2]
    train(shape, tmp_path / "whole")
    killed = tmp_path / "killed"
    kill_once_checkpointed(["tests.supernet_helpers", str(killed)], killed / "checkpoint.pt")
    assert torch.load(killed / "checkpoint.pt", weights_only=True)["step"] < TRAINING.steps
    train(shape, killed)
    whole, resumed = _final_weights(tmp_path / "whole"), _final_weights(killed)
    assert whole.keys() == resumed.keys()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)


def test_bn_recalibration_changes_the_paths_running_statistics_and_nothing_else():
    torch.manual_seed(0)
    template, _, shape = tiny(ops=NO_ZERO)
    net = Supernet(shape)
    path = net.path(template.genome(template.random(random.Random(3))))
    stats = {b.data_ptr() for m in path.modules() if isinstance(m, torch.nn.BatchNorm2d) for b in m.buffers()}
    before = {k: v.clone() for k, v in net.state_dict().items()}
    recalibrate_bn(path, [torch.randn(8, 1, 8, 8) for _ in range(3)])
    assert not path.training
    changed = {k for k, v in net.state_dict().items() if not torch.equal(v, before[k])}
    on_path = {k for k, v in net.state_dict().items() if v.data_ptr() in stats}
    assert changed == on_path and len(on_path) > 10
    assert all(net.state_dict()[k] == 3 for k in on_path if k.endswith("num_batches_tracked"))
    assert all(m.momentum == 0.1 for m in path.modules() if isinstance(m, torch.nn.BatchNorm2d))
