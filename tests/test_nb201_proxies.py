"""Zero-cost proxies on NAS-Bench-201 networks: naswot on CIFAR-10 images read
from a root in the CIFAR batch layout (as bench/bench_nb201_proxies.py reads
them), synflow as the reference computes it."""
from __future__ import annotations

import math

import torch
from torch import nn

from genelang.compiler.nb201 import genome_from_key
from genelang.runtime.config import TaskConfig
from genelang.runtime.nb201_network import NB201Network
from genelang.runtime.proxies import naswot, synflow
from genelang.runtime.task_data import sample_batch
from tests.test_tasks import write_cifar


def test_naswot_on_cifar_batches_from_a_root(tmp_path):
    write_cifar(tmp_path, n=8)
    x, _ = sample_batch(TaskConfig("cifar10", root=str(tmp_path), batch_size=8))
    assert x.shape == (8, 3, 32, 32)
    torch.manual_seed(0)
    net = NB201Network(genome_from_key("333132"))
    distinct = naswot(net, x)
    same = naswot(net, x[:1].expand(8, -1, -1, -1).contiguous())
    assert math.isfinite(distinct)
    # identical images give identical codes: a singular kernel, the lowest score there is
    assert same < distinct
    # a cell of `none` edges passes nothing on: every image has the same codes
    assert naswot(NB201Network(genome_from_key("000000")), x) < distinct


def test_synflow_drops_batchnorm_and_sums_weight_flows():
    torch.manual_seed(0)
    lin = nn.Linear(4, 3)
    plain = nn.Sequential(lin, nn.ReLU(), nn.Linear(3, 2))
    with_bn = nn.Sequential(plain[0], nn.BatchNorm1d(3), nn.ReLU(), plain[2])
    x = torch.randn(5, 4)
    assert synflow(with_bn, x) == synflow(plain, x)
    # one linear layer: R = Σ(|W|·1 + |b|), so Σ|W ⊙ ∂R/∂W| = Σ|W|
    assert math.isclose(synflow(nn.Sequential(lin), x), math.log(lin.weight.abs().sum().item()), rel_tol=1e-6)
    before = [p.clone() for p in with_bn.parameters()]
    synflow(with_bn, x)
    assert all(torch.equal(a, b) for a, b in zip(before, with_bn.parameters()))   # left as it was


def test_synflow_ranks_larger_nb201_cells_higher():
    scores = {}
    for key in ("000000", "111111", "333333"):
        torch.manual_seed(0)
        scores[key] = synflow(NB201Network(genome_from_key(key)), torch.zeros(1, 3, 32, 32), keep=False)
    assert scores["000000"] < scores["111111"] < scores["333333"]
