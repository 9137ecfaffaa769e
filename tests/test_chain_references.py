"""Published architectures written as genomes (examples/genotypes/) have the
reference code's or paper's parameter counts and multiply-adds at 224×224 with
1000 classes (bench/RESULTS.md says which reference and how close).

- ProxylessNAS-mobile: 4,080,512 parameters, exactly the reference model
  (mit-han-lab/proxylessnas proxyless_mobile, as osmr/imgclsmob's test asserts);
  the paper's 320M multiply-adds.
- SPOS (megvii-model/SinglePathOneShot, README): 3.5M parameters, 323M FLOPs
  (their get_flops counts conv and linear multiply-adds): 3,558,464 and 322.9M.
- FBNet-A/B/C (paper table: 4.3M/249M, 4.5M/295M, 5.5M/375M): this space ends
  every FBNet with the paper's 1984-wide 1×1 conv (mobile-vision's FBNet-A
  ends with 1504, +0.65M parameters here), and follows maskrcnn-benchmark's
  fbnet_builder blocks (a 1×1 expansion even at ratio 1)."""
from pathlib import Path

import pytest
import torch

from genelang.compiler import load_text
from genelang.runtime.chain.network import network
from genelang.runtime.config import ModelConfig
from genelang.runtime.summary import measure

GENOTYPES = Path(__file__).parents[1] / "examples" / "genotypes"
IMAGENET = ModelConfig(skeleton="imagenet")

# file: (parameters, multiply-adds) this genelang builds — pinned
BUILT = {"proxyless-mobile": (4_080_512, 320_427_584), "spos-best": (3_558_464, 322_918_720),
         "fbnet-a": (4_971_384, 258_680_888), "fbnet-b": (4_813_048, 296_614_728),
         "fbnet-c": (5_572_200, 384_960_160)}
# file: (parameters, multiply-adds, relative tolerance) of the reference
REFERENCE = {"proxyless-mobile": (4_080_512, 320e6, 0.002), "spos-best": (3.5e6, 323e6, 0.02),
             "fbnet-b": (4.5e6, 295e6, 0.07), "fbnet-c": (5.5e6, 375e6, 0.03)}


def _costs(name: str) -> tuple[int, int]:
    genome = load_text((GENOTYPES / f"{name}.gene").read_text()).genomes[0]
    net = network(genome, IMAGENET, num_classes=1000, input_shape=(3, 224, 224))
    cost, _ = measure(net, torch.zeros(1, 3, 224, 224))
    assert cost.params == sum(p.numel() for p in net.parameters())
    return cost.params, cost.macs


@pytest.mark.parametrize("name", sorted(BUILT))
def test_reference_architectures_parameter_counts(name):
    params, macs = _costs(name)
    assert (params, macs) == BUILT[name]
    if name in REFERENCE:
        ref_params, ref_macs, tol = REFERENCE[name]
        assert abs(params / ref_params - 1) <= tol and abs(macs / ref_macs - 1) <= tol


def test_fbnet_a_with_mobile_visions_1504_head_has_the_papers_count():
    params, _ = _costs("fbnet-a")
    head_difference = (352 * 1984 + 2 * 1984 + 1984 * 1000) - (352 * 1504 + 2 * 1504 + 1504 * 1000)
    assert abs((params - head_difference) / 4.3e6 - 1) < 0.01
