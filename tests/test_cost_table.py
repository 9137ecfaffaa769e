"""The cost table's sums equal the built network's parameters and summary's
multiply-adds, exactly, for random genomes of a template."""
import random

import pytest
import torch

from genelang.compiler.conv_plan import cell_plan
from genelang.evolve.spec.schema import SpaceSpec
from genelang.compiler.template import Template
from genelang.runtime import networks
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.cost_table import cost_table, task_cost_table
from genelang.runtime.networks import build_network
from genelang.runtime.summary import summarize
from genelang.runtime.models import make_model

ADF_OPS = ["pw", "dw3x3", "sep5x3", "isep1x7", "skip_connect", "none", "max_pool_3x3", "avg_pool_3x3",
           "sep_conv_3x3", "dil_conv_5x5", "add", "cat"]


@pytest.fixture(autouse=True)
def _one_thread():
    """Hundreds of tiny forwards: threads only contend on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _genomes(space: SpaceSpec, n: int, seed: int):
    t = Template.from_spec(space)
    rng = random.Random(seed)
    return t, [t.genome(t.random(rng)) for _ in range(n)]


def _functions(t: Template) -> tuple[str, ...]:
    return tuple(sorted({f for s in t.slots for f in s.functions}))


def _no_builds(*_a, **_k):
    raise AssertionError("the cost table built a cell")


def _check(table, genomes, build, shape, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(networks, "lower_cell", _no_builds)
        costs = [table.cost(g) for g in genomes]
    for g, c in zip(genomes, costs):
        torch.manual_seed(0)
        net = build(g)
        assert c.params == sum(p.numel() for p in net.parameters())
        assert c.macs == summarize(net, torch.zeros(1, *shape))[-1].macs


def _coverage(genomes) -> set[str]:
    """Which of the table's cases the sample exercises."""
    seen = set()
    for g in genomes:
        for cell, reduction in (("normal", False), ("reduction", True)):
            p = cell_plan(g, cell, reduction)
            seen |= {f"root-cat:{cell}"} if p.multiplier > 1 else set()
            seen |= {"projection"} if p.projections else set()
            seen |= {"stride-2"} if any(s == 2 for _, s in p.ops) else set()
            seen |= {f"unread:{h}" for h in ("h1", "h2") if h not in p.reads}
    return seen


def test_nasgep_separate_pools_on_a_task(monkeypatch):
    space = SpaceSpec(adfs=4, adf_head=2, main_head=3, separate_pools=True, adf_functions=ADF_OPS)
    t, genomes = _genomes(space, 200, 0)
    task, model = TaskConfig("digits"), ModelConfig(skeleton="nasgep", C=4, N=1)
    table = task_cost_table(task, model, t.max_operands())
    assert task_cost_table(task, model, t.max_operands()) is table   # built once per spec
    assert {"root-cat:normal", "root-cat:reduction", "projection", "stride-2", "unread:h1", "unread:h2"} \
        <= _coverage(genomes)
    _check(table, genomes, lambda g: make_model(g, task, model), (1, 8, 8), monkeypatch)


def test_darts_with_an_auxiliary_head_at_28x28(monkeypatch):
    space = SpaceSpec(adfs=3, adf_head=2, main_head=2, adf_functions=ADF_OPS)
    t, genomes = _genomes(space, 200, 1)
    model = ModelConfig(skeleton="darts", C=4, layers=5, auxiliary=True)
    table = cost_table(model, num_classes=7, input_shape=(3, 28, 28), functions=_functions(t),
                       max_operands=t.max_operands())
    assert {"root-cat:normal", "root-cat:reduction", "stride-2"} <= _coverage(genomes)
    _check(table, genomes, lambda g: build_network(g, "darts", C=4, layers=5, num_classes=7, in_channels=3,
                                                   auxiliary=True), (3, 28, 28), monkeypatch)


def test_an_op_the_table_was_not_built_for_is_refused():
    _, genomes = _genomes(SpaceSpec(adfs=2, adf_head=2, main_head=2, adf_functions=["pw", "dw3x3"]), 1, 0)
    table = cost_table(ModelConfig(C=4), num_classes=10, input_shape=(1, 8, 8), functions=("add", "sep3x3"),
                       max_operands=3)
    with pytest.raises(LookupError, match="prices no op"):
        table.cost(genomes[0])
