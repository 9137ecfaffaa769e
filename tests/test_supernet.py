"""The supernet: a genome's path computes what its compiled network computes
given the same weights; training samples fairly and resumes after SIGKILL;
BN recalibration touches the path's running statistics only."""
import random

import pytest
import torch

from genelang.compiler.check import check_genome
from genelang.compiler import load_text
from genelang.evolve.oneshot import supernet_shape
from genelang.evolve.spec import parse_spec
from genelang.evolve.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.networks import build_network
from genelang.runtime.supernet import Supernet



@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: a second thread only waits on this shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


OPS = ["add", "cat", "sep3x3", "dw3x3", "pw", "skip_connect", "max_pool_3x3", "none"]


def tiny(adfs=3, adf_head=2, main_head=2, ops=OPS, C=4, N=1, skeleton="nasgep"):
    spec = parse_spec({"task": {"name": "digits"}, "model": {"C": C, "N": N, "skeleton": skeleton, "layers": 3},
                       "space": {"space": "conv", "adfs": adfs, "adf_head": adf_head, "main_head": main_head,
                                 "adf_functions": ops}})
    template = Template.from_spec(spec.space)
    _, model = spec.configs()
    return template, model, supernet_shape(template, model, num_classes=10, in_channels=1)


def _same_function(net: Supernet, genome, model: ModelConfig, x: torch.Tensor) -> None:
    path = net.path(genome).eval()
    alone = build_network(genome, model.skeleton, C=model.C, N=model.N, layers=model.layers, in_channels=1).eval()
    alone.load_state_dict(path.state_dict())    # strict: every compiled module has its block
    with torch.no_grad():
        torch.testing.assert_close(path(x), alone(x), rtol=0, atol=1e-5)
    assert sum(p.numel() for p in path.parameters()) == sum(p.numel() for p in alone.parameters())


@pytest.mark.parametrize("skeleton", ["nasgep", "darts"])
def test_a_path_computes_what_the_compiled_genome_computes(skeleton):
    torch.manual_seed(0)
    template, model, shape = tiny(skeleton=skeleton)
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
    assert plan.C_last == 3 * 16                      # the last (normal) cell at C=4·2·2, 3 leaves
    _same_function(net, genome, model, torch.randn(2, 1, 8, 8))
