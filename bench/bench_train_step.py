"""Train-step time of the compiled DARTS_V2 network against a hand-written
DARTS network in the paper code's style (eager, default memory format),
measured in the same run. Parameters and outputs are checked identical first.

Run: .venv/bin/python bench/bench_train_step.py [--steps N]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.test_darts_reference import DARTS_V2, NetworkCIFAR, _translate  # noqa: E402

from genelang.compiler import load_file  # noqa: E402
from genelang.runtime.networks import build_network  # noqa: E402

GENE = ROOT / "examples" / "genotypes" / "darts_v2.gene"


def step_time(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    net.train()
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        if i >= 2:   # two warm-up steps
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=None, help="timed steps per variant")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    genome = load_file(GENE).genomes[0]
    print(f"{'size':>10} {'params':>10} {'reference':>10} {'compiled':>10} {'compiled+CL':>12} "
          f"{'ratio':>6} {'ratio CL':>8}")
    for C, layers, steps in ((16, 8, args.steps or 10), (36, 20, args.steps or 3)):
        torch.manual_seed(0)
        ref = NetworkCIFAR(C, 10, layers, False, DARTS_V2)
        ours = build_network(genome, "darts", C=C, layers=layers, num_classes=10)
        n_ref, n_ours = (sum(p.numel() for p in m.parameters()) for m in (ref, ours))
        assert n_ref == n_ours, (n_ref, n_ours)
        reductions = {layers // 3, 2 * layers // 3}
        ours.load_state_dict({_translate(k, reductions): v for k, v in ref.state_dict().items()})
        x = torch.randn(32, 3, 32, 32)
        y = torch.randint(0, 10, (32,))
        with torch.no_grad():
            diff = (ref.eval()(x) - ours.eval()(x)).abs().max().item()
        assert diff < 1e-4, diff
        t_ref = step_time(ref, x, y, steps)
        t_ours = step_time(ours, x, y, steps)
        ours_cl = ours.to(memory_format=torch.channels_last)
        t_cl = step_time(ours_cl, x.contiguous(memory_format=torch.channels_last), y, steps)
        print(f"{f'C={C}/L={layers}':>10} {n_ours:>10,} {t_ref:>8.0f}ms {t_ours:>8.0f}ms {t_cl:>10.0f}ms "
              f"{t_ours / t_ref:>6.2f} {t_cl / t_ref:>8.2f}   (max |Δ out| {diff:.1e})")
    text = GENE.read_text()
    from genelang.compiler import load_text
    t_parse = [time.perf_counter()]
    for _ in range(20):
        load_text(text)
    t_parse = (time.perf_counter() - t_parse[0]) / 20 * 1000
    builds = []
    for _ in range(5):
        t = time.perf_counter()
        build_network(load_text(text).genomes[0], "darts", C=16, layers=8)
        builds.append(time.perf_counter() - t)
    print(f"parse+check: {t_parse:.2f} ms/genome; genome → network (C=16, 8 cells): "
          f"{statistics.median(builds) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
