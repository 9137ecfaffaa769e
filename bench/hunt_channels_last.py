"""Hunt for channels_last CPU bugs: the same small network, the same weights
and the same batch, forward + backward in the default layout and in
channels_last; the output and every gradient compared with a float64
reference, plus NaN/inf checks.

Part `ops` is torch alone: one block of the kinds genelang builds
(depthwise/separable/dilated convs, max/avg pool 3×3 stride 1/2, 1×1 conv,
FactorizedReduce on x and x[:, :, 1:, 1:] concatenated; each with ReLU and
BN) with C = 1..16 channels, 7..32 pixels, batch 2..32, stride 1/2, fp32 and
bf16 autocast. Part `genomes` builds random genomes of quick.yaml's space with
genelang (still no Lightning), C = 2, 3, 4, 8, 1- and 3-channel inputs.

Run it under the allocators' checkers too:
    PYTHONMALLOC=debug MALLOC_CHECK_=3 python bench/hunt_channels_last.py --trials 200
Exit status 1 when any trial mismatched or produced a non-finite value.
The minimal reproducers of what this found are bench/repro_channels_last.py
(bf16 dilated depthwise) and bench/repro_strided_pointwise.py (the heap
corruption); `--path genelang` hunts the path genelang trains on.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genelang.runtime import channels_last  # noqa: E402  (after the path insert)

CL = torch.channels_last
GENELANG_PATH = False   # --path genelang: channels_last as genelang trains in it (runtime/channels_last.enter)


class FactorizedReduce(nn.Module):
    """DARTS's: two stride-2 1×1 convs on x and x shifted by one pixel, concatenated."""

    def __init__(self, C: int):
        super().__init__()
        self.c1 = nn.Conv2d(C, max(1, C // 2), 1, 2, bias=False)
        self.c2 = nn.Conv2d(C, C - max(1, C // 2), 1, 2, bias=False) if C > 1 else None
        self.bn = nn.BatchNorm2d(C)

    def forward(self, x):
        x = torch.relu(x)
        a = self.c1(x)
        if self.c2 is None:
            return self.bn(a)
        b = self.c2(nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1)))   # pad odd sizes back
        return self.bn(torch.cat([a, b], 1))


def block(kind: str, C: int, stride: int) -> nn.Module:
    relu = nn.ReLU()
    if kind == "dw":
        return nn.Sequential(relu, nn.Conv2d(C, C, 3, stride, 1, groups=C, bias=False), nn.BatchNorm2d(C))
    if kind == "sep":   # NASGEP: pointwise then depthwise
        return nn.Sequential(relu, nn.Conv2d(C, C, 1, bias=False),
                             nn.Conv2d(C, C, 5, stride, 2, groups=C, bias=False), nn.BatchNorm2d(C))
    if kind == "isep":
        return nn.Sequential(relu, nn.Conv2d(C, C, (3, 5), stride, (1, 2), groups=C, bias=False),
                             nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))
    if kind == "darts_sep":
        return nn.Sequential(relu, nn.Conv2d(C, C, 3, stride, 1, groups=C, bias=False), nn.Conv2d(C, C, 1, bias=False),
                             nn.BatchNorm2d(C), nn.ReLU(), nn.Conv2d(C, C, 3, 1, 1, groups=C, bias=False),
                             nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))
    if kind == "dil":
        return nn.Sequential(relu, nn.Conv2d(C, C, 3, stride, 2, dilation=2, groups=C, bias=False),
                             nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))
    if kind == "pw":
        return nn.Sequential(relu, nn.Conv2d(C, C, 1, stride, bias=False), nn.BatchNorm2d(C))
    if kind == "max":
        return nn.MaxPool2d(3, stride, 1)
    if kind == "avg":
        return nn.AvgPool2d(3, stride, 1, count_include_pad=False)
    if kind == "fr":
        return FactorizedReduce(C) if stride == 2 else nn.Identity()
    raise ValueError(kind)


KINDS = ("dw", "sep", "isep", "darts_sep", "dil", "pw", "max", "avg", "fr")


def probe(kind: str, C: int, stride: int) -> nn.Module:
    """One block, then a pooled linear read-out so cross-entropy applies."""
    return nn.Sequential(block(kind, C, stride), nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(16 * C, 10))


def run(net: nn.Module, x: torch.Tensor, y: torch.Tensor, mode: str, cl: bool):
    """Output and input/parameter gradients of one forward + backward (train
    mode); `mode` is fp64 (the reference), fp32 or bf16 (autocast)."""
    if mode == "fp64":
        net, x = net.double(), x.double()
    if cl:
        net = channels_last.enter(net) if GENELANG_PATH else net.to(memory_format=CL)
        x = x.contiguous(memory_format=CL)
    x = x.clone().requires_grad_(True)
    net.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
        out = net(x)
    nn.functional.cross_entropy(out.double(), y).backward()
    grads = [p.grad.detach().double() for p in net.parameters() if p.grad is not None] + [x.grad.detach().double()]
    return [out.detach().double(), *grads]


def rel(a: torch.Tensor, b: torch.Tensor, floor: float) -> float:
    """L2 norm of the difference relative to b's, or to `floor` where b is
    about zero (a conv bias right before BN has gradient 0 analytically). Not
    the max difference: a ReLU whose input is ~0 flips its mask on a 1e-6
    forward difference, which makes single gradient elements differ wholly."""
    return ((a - b).norm() / max(b.norm().item(), floor)).item()


def compare(make_net, x, y, mode: str) -> tuple[bool, str]:
    """(bad, detail): channels_last against the default layout on identical
    weights and batch, both measured against a float64 reference (so BN's
    ill-conditioned cases, where any rounding is amplified, do not count): bad
    when channels_last's error exceeds 10× the default layout's + tol (1e-3
    fp32: oneDNN's summation order alone gives ~1e-4; 0.02 bf16), or only
    channels_last gives a non-finite value. Where the default layout is
    itself off by > 10% the trial is reported as ill-conditioned, not judged."""
    state = {k: v.clone() for k, v in make_net().state_dict().items()}

    def fresh():
        n = make_net()
        n.load_state_dict(state)
        return n

    ref = run(fresh(), x, y, "fp64", False)
    default = run(fresh(), x, y, mode, False)
    cl = run(fresh(), x, y, mode, True)
    if not all(torch.isfinite(t).all() for t in cl) and all(torch.isfinite(t).all() for t in default):
        return True, "non-finite only in channels_last"
    floor = 1e-3 * max(t.norm().item() for t in ref[1:])
    e_cl = [rel(a, b, floor) for a, b in zip(cl, ref)]
    e_def = [rel(a, b, floor) for a, b in zip(default, ref)]
    worst = max(range(len(e_cl)), key=lambda i: e_cl[i] - 10 * e_def[i])
    detail = f"tensor {worst}: channels_last err {e_cl[worst]:.2e}, default err {e_def[worst]:.2e} (vs fp64)"
    if e_def[worst] > 0.1:   # the default layout is itself far off: too ill-conditioned to judge
        return False, "ill-conditioned " + detail
    tol = 1e-3 if mode == "fp32" else 0.02
    return e_cl[worst] > 10 * e_def[worst] + tol, detail


def ops_trials(n: int, seed: int):
    rng = random.Random(seed)
    for t in range(n):
        kind, C, stride = rng.choice(KINDS), rng.choice((1, 2, 3, 4, 8, 16)), rng.choice((1, 2))
        hw, batch = rng.choice((7, 15, 28, 32)), rng.choice((2, 3, 5, 8, 15, 32))   # odd: defect 3
        mode = rng.choice(("fp32", "bf16"))

        def make(kind=kind, C=C, stride=stride, t=t):
            torch.manual_seed(t)
            return probe(kind, C, stride)
        torch.manual_seed(t)
        x = torch.randn(batch, C, hw, hw)
        y = torch.randint(0, 10, (batch,))
        yield f"ops#{t} {kind} C={C} stride={stride} {hw}x{hw} b={batch} {mode}", make, x, y, mode


def genome_trials(n: int, seed: int):
    from genelang.evolve.spec.schema import load_spec
    from genelang.compiler.template import Template
    from genelang.runtime.networks import build_network
    template = Template.from_spec(load_spec(ROOT / "examples/specs/quick.yaml").space)
    rng = random.Random(seed)
    for t in range(n):
        genome = template.genome(template.random(rng))
        C = rng.choice((2, 3, 4, 8))
        cin, hw = rng.choice(((1, 28), (3, 32)))
        batch = rng.choice((5, 8, 15, 32, 63, 64))   # odd: the last batch of an epoch; defect 3
        mode = rng.choice(("fp32", "bf16"))

        def make(genome=genome, C=C, cin=cin):
            torch.manual_seed(0)
            return build_network(genome, "nasgep", C=C, N=1, in_channels=cin, num_classes=10)
        torch.manual_seed(t)
        x = torch.randn(batch, cin, hw, hw)
        y = torch.randint(0, 10, (batch,))
        yield f"genome#{t} C={C} cin={cin} {hw}x{hw} b={batch} {mode}", make, x, y, mode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("ops", "genomes", "both"), default="both")
    ap.add_argument("--trials", type=int, default=100, help="trials per part")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--anomaly", action="store_true", help="run under torch.autograd.detect_anomaly")
    ap.add_argument("--path", choices=("torch", "genelang"), default="torch",
                    help="channels_last as torch gives it, or as genelang trains in it (its module switches)")
    args = ap.parse_args()
    global GENELANG_PATH
    GENELANG_PATH = args.path == "genelang"
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")
    parts = {"ops": [ops_trials], "genomes": [genome_trials], "both": [ops_trials, genome_trials]}[args.part]
    bad = total = unjudged = 0
    t0 = time.perf_counter()
    with torch.autograd.set_detect_anomaly(args.anomaly):
        for part in parts:
            for name, make, x, y, mode in part(args.trials, args.seed):
                total += 1
                is_bad, detail = compare(make, x, y, mode)
                if is_bad:
                    bad += 1
                    print(f"MISMATCH {name}: {detail}", flush=True)
                elif detail.startswith("ill"):
                    unjudged += 1
                    print(f"skipped {name}: {detail}", flush=True)
    print(f"{total} trials, {bad} mismatched, {unjudged} too ill-conditioned to judge, {time.perf_counter() - t0:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
