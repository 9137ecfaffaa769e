"""DARTS_V2 built by genelang equals DARTS's own NetworkCIFAR.

The reference below is written from the DARTS paper's code (quark0/darts
cnn/operations.py and cnn/model.py), independently of genelang's builders.
"""
from collections import namedtuple
from pathlib import Path

import torch
from torch import nn

from genelang.compiler import load_file
from genelang.runtime.networks import build_network

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
DARTS_V2 = Genotype(
    normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    reduce_concat=[2, 3, 4, 5])
GENE = Path(__file__).parents[1] / "examples" / "genotypes" / "darts_v2.gene"


def relu_conv_bn(C_in, C_out, k, stride, pad):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(C_in, C_out, k, stride, pad, bias=False), nn.BatchNorm2d(C_out))


def sep_conv(C, k, stride, pad):
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(C, C, k, stride, pad, groups=C, bias=False), nn.Conv2d(C, C, 1, bias=False),
        nn.BatchNorm2d(C), nn.ReLU(), nn.Conv2d(C, C, k, 1, pad, groups=C, bias=False),
        nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))


def dil_conv(C, k, stride, pad, dil):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, k, stride, pad, dilation=dil, groups=C, bias=False),
                         nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))


class FactorizedReduce(nn.Module):
    def __init__(self, C_in, C_out):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(C_out)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


OPS = {
    "max_pool_3x3": lambda C, s: nn.MaxPool2d(3, stride=s, padding=1),
    "skip_connect": lambda C, s: nn.Identity() if s == 1 else FactorizedReduce(C, C),
    "sep_conv_3x3": lambda C, s: sep_conv(C, 3, s, 1),
    "dil_conv_3x3": lambda C, s: dil_conv(C, 3, s, 2, 2),
}


class Cell(nn.Module):
    def __init__(self, genotype, C_pp, C_p, C, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(C_pp, C) if reduction_prev else relu_conv_bn(C_pp, C, 1, 1, 0)
        self.preprocess1 = relu_conv_bn(C_p, C, 1, 1, 0)
        ops, concat = (genotype.reduce, genotype.reduce_concat) if reduction else (genotype.normal, genotype.normal_concat)
        self._ops = nn.ModuleList(OPS[name](C, 2 if reduction and idx < 2 else 1) for name, idx in ops)
        self._indices = [idx for _, idx in ops]
        self._concat = concat
        self.multiplier = len(concat)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(len(self._ops) // 2):
            h1 = self._ops[2 * i](states[self._indices[2 * i]])
            h2 = self._ops[2 * i + 1](states[self._indices[2 * i + 1]])
            states.append(h1 + h2)
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    def __init__(self, C, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class NetworkCIFAR(nn.Module):
    def __init__(self, C, num_classes, layers, auxiliary, genotype):
        super().__init__()
        C_curr = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr))
        C_pp, C_p, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                C_curr *= 2
            cell = Cell(genotype, C_pp, C_p, C_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            C_pp, C_p = C_p, cell.multiplier * C_curr
            if i == 2 * layers // 3:
                C_aux = C_p
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(C_aux, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, num_classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def genome():
    return load_file(GENE).genomes[0]


def test_parameter_count_matches_darts_at_paper_size():
    for aux in (False, True):
        ref = NetworkCIFAR(36, 10, 20, aux, DARTS_V2)
        ours = build_network(genome(), "darts", C=36, layers=20, num_classes=10, auxiliary=aux)
        assert n_params(ours) == n_params(ref)
    assert 3.2e6 < n_params(NetworkCIFAR(36, 10, 20, False, DARTS_V2)) < 3.4e6   # "3.3M" in the paper


def _translate(ref_name: str, reduction_cells: set[int]) -> str:
    """Reference parameter name → genelang's: cells.i._ops.(2k+j).rest → cells.i.{n|r}{k+2}_{j+1}_{op}.rest"""
    parts = ref_name.split(".")
    if parts[0] == "cells" and parts[2] == "_ops":
        i, op_index = int(parts[1]), int(parts[3])
        red = i in reduction_cells
        k, j = divmod(op_index, 2)
        op = (DARTS_V2.reduce if red else DARTS_V2.normal)[op_index][0]
        prefix = "r" if red else "n"
        return ".".join(["cells", str(i), f"{prefix}{k + 2}_{j + 1}_{op}", *parts[4:]])
    return ref_name


def test_same_network_same_outputs():
    torch.manual_seed(0)
    layers = 5
    ref = NetworkCIFAR(8, 10, layers, False, DARTS_V2).eval()
    ours = build_network(genome(), "darts", C=8, layers=layers, num_classes=10).eval()
    reductions = {layers // 3, 2 * layers // 3}
    mapped = {_translate(k, reductions): v for k, v in ref.state_dict().items()}
    missing, unexpected = ours.load_state_dict(mapped, strict=True)
    assert not missing and not unexpected
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        a, b = ref(x), ours(x)
    assert a.shape == b.shape == (2, 10)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_auxiliary_head_in_training():
    net = build_network(genome(), "darts", C=8, layers=5, num_classes=10, auxiliary=True).train()
    logits, aux = net.forward_with_aux(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    net.eval()
    assert net.forward_with_aux(torch.randn(2, 3, 32, 32))[1] is None
