"""Train-step time of the compiled DARTS_V2 network against a hand-written
DARTS network in the paper code's style (quark0/darts's NetworkCIFAR: eager,
fp32, default memory format), measured in the same run, for genelang's
candidate CPU paths: fp32 in the default layout, the default CPU path
(channels_last with runtime/batchnorm.py's accurate BatchNorm), bf16 autocast (as Lightning's `bf16-mixed` does it:
forward and loss under `torch.autocast("cpu", bfloat16)`, backward and the
optimizer outside), channels_last + bf16. glibc keeps freed memory
(runtime/heap.py, as in genelang's training) for every variant,
the reference included.

Parameters and fp32 outputs are checked identical first. The variants are
timed round-robin (a block of steps each, then again), so load from other
processes hits every variant alike. Per variant: the fastest step (wall; the
least disturbed by other processes), the median over rounds of its block's
median divided by the reference's block median of the same round ("paired"),
and the median CPU time of this process per step. Each variant's gradients
(one step, same weights and batch) are compared with the reference's:
relative L2 error over all parameters, and over the dilated depthwise convs'
weights alone, so a fast path that computes wrong gradients shows.

Run: .venv/bin/python bench/bench_train_step.py [--rounds R] [--steps N] [--threads 2]
"""
from __future__ import annotations

import argparse
import copy
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.test_darts_reference import DARTS_V2, NetworkCIFAR, _translate  # noqa: E402

from genelang.compiler import load_file, load_text  # noqa: E402
from genelang.runtime import channels_last  # noqa: E402
from genelang.runtime.heap import keep_freed_memory  # noqa: E402
from genelang.runtime.networks import build_network  # noqa: E402

GENE = ROOT / "examples" / "genotypes" / "darts_v2.gene"


@dataclass
class Variant:
    name: str
    net: nn.Module
    bf16: bool = False
    channels_last: bool = False

    def __post_init__(self):
        if self.channels_last:     # as ImageClassifier trains it
            self.net = channels_last.enter(self.net)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01, momentum=0.9)
        self.times: list[float] = []   # wall seconds per step
        self.cpu: list[float] = []     # CPU seconds per step (all threads of this process)

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            loss = nn.functional.cross_entropy(self.net(x), y)
        loss.backward()
        self.opt.step()

    def grads(self, x: torch.Tensor, y: torch.Tensor, rename=lambda k: k) -> dict[str, torch.Tensor]:
        """Gradients of one step from the current weights (no update), by
        parameter name (`rename` maps the reference's names to genelang's)."""
        self.net.train()
        self.net.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            loss = nn.functional.cross_entropy(self.net(self.input(x)), y)
        loss.backward()
        return {rename(k): p.grad.detach().float().clone() for k, p in self.net.named_parameters()}

    def time_block(self, x: torch.Tensor, y: torch.Tensor, steps: int) -> None:
        self.net.train()
        x = self.input(x)
        self.step(x, y)   # warm-up after the other variants ran
        for _ in range(steps):
            t, c = time.perf_counter(), time.process_time()
            self.step(x, y)
            self.times.append(time.perf_counter() - t)
            self.cpu.append(time.process_time() - c)


def grad_error(grads: dict[str, torch.Tensor], ref: dict[str, torch.Tensor], keys=None) -> float:
    """‖g − r‖ / ‖r‖ over the named parameters (all by default), concatenated."""
    assert grads.keys() == ref.keys()
    keys = list(ref) if keys is None else keys
    g, r = (torch.cat([d[k].flatten() for k in keys]) for d in (grads, ref))
    return ((g - r).norm() / r.norm()).item()


def dilated_depthwise(net: nn.Module) -> list[str]:
    """Names of the weights of dilated depthwise convs (dil_conv_*: the layer
    torch 2.14's oneDNN gets wrong in bf16 + channels_last, docs/channels_last.md)."""
    return [f"{n}.weight" for n, m in net.named_modules()
            if isinstance(m, nn.Conv2d) and m.dilation != (1, 1) and m.groups == m.in_channels]


def variants(C: int, layers: int, genome) -> tuple[list[Variant], set[int]]:
    torch.manual_seed(0)
    ref = NetworkCIFAR(C, 10, layers, False, DARTS_V2)
    ours = build_network(genome, "darts", C=C, layers=layers, num_classes=10)
    n_ref, n_ours = (sum(p.numel() for p in m.parameters()) for m in (ref, ours))
    assert n_ref == n_ours, (n_ref, n_ours)
    reductions = {layers // 3, 2 * layers // 3}
    ours.load_state_dict({_translate(k, reductions): v for k, v in ref.state_dict().items()})
    return [Variant("reference fp32", ref),
            Variant("genelang fp32", copy.deepcopy(ours)),
            Variant("genelang bf16", copy.deepcopy(ours), bf16=True),
            Variant("genelang default (CL)", copy.deepcopy(ours), channels_last=True),
            Variant("genelang channels_last+bf16", copy.deepcopy(ours), bf16=True, channels_last=True)], reductions


def measure(C: int, layers: int, genome, rounds: int, steps: int) -> None:
    vs, reductions = variants(C, layers, genome)
    n_params = sum(p.numel() for p in vs[0].net.parameters())
    x = torch.randn(32, 3, 32, 32)
    y = torch.randint(0, 10, (32,))
    with torch.no_grad():
        diff = (vs[0].net.eval()(x) - vs[1].net.eval()(x)).abs().max().item()
    assert diff < 1e-4, diff
    ref_grads = vs[0].grads(x, y, lambda k: _translate(k, reductions))
    dil = dilated_depthwise(vs[1].net)
    errors = [(0.0, 0.0)]
    for v in vs[1:]:
        g = v.grads(x, y)
        errors.append((grad_error(g, ref_grads), grad_error(g, ref_grads, dil)))
    ratios: list[list[float]] = [[] for _ in vs]   # per round: variant / reference, side by side in time
    for r in range(rounds):
        for v in vs:
            v.time_block(x, y, steps)
        for v, out in zip(vs, ratios):
            out.append(statistics.median(v.times[-steps:]) / statistics.median(vs[0].times[-steps:]))
        print(f"  round {r + 1}/{rounds} (ms): " + ", ".join(f"{v.name} {v.times[-1] * 1000:.0f}" for v in vs),
              flush=True)
    print(f"\nDARTS_V2, C={C}, {layers} cells, {n_params:,} parameters (identical), batch 32, "
          f"max |Δ out| fp32 {diff:.1e}; {rounds} rounds × {steps} steps, interleaved; ratio = ours/reference")
    m_ref, c_ref = min(vs[0].times), statistics.median(vs[0].cpu)
    print(f"{'variant':<28} {'min ms':>7} {'ratio':>6} {'paired':>7} {'CPU ms':>7} {'ratio':>6} "
          f"{'grad err':>9} {'dil_conv':>9}")
    for v, out, (err, err_dil) in zip(vs, ratios, errors):
        m, c = min(v.times), statistics.median(v.cpu)
        print(f"{v.name:<28} {m * 1000:>7.0f} {m / m_ref:>6.2f} {statistics.median(out):>7.2f} "
              f"{c * 1000:>7.0f} {c / c_ref:>6.2f} {err:>9.1e} {err_dil:>9.1e}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=None, help="round-robin rounds (default 8 small / 4 big)")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per variant per round (default 2 / 1)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    keep_freed_memory()
    print(f"machine: {platform.machine()} {platform.processor()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}; goal ours/ref ≤ 0.67")
    genome = load_file(GENE).genomes[0]
    for C, layers, rounds, steps in ((16, 8, 8, 2), (36, 20, 4, 1)):
        measure(C, layers, genome, args.rounds or rounds, args.steps or steps)
    text = GENE.read_text()
    t0 = time.perf_counter()
    for _ in range(20):
        load_text(text)
    t_parse = (time.perf_counter() - t0) / 20 * 1000
    builds = []
    for _ in range(5):
        t = time.perf_counter()
        build_network(load_text(text).genomes[0], "darts", C=16, layers=8)
        builds.append(time.perf_counter() - t)
    print(f"\nparse+check: {t_parse:.2f} ms/genome; genome → network (C=16, 8 cells): "
          f"{statistics.median(builds) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
