"""torch alone: the weight gradient of a strided 1x1 convolution in
channels_last corrupts the heap on the CPU (torch 2.14.1, oneDNN) when more
than one thread runs and the batch is odd: "double free or corruption",
"free(): invalid next size", segfaults (docs/channels_last.md, defect 3).

Each case runs in a forked child, so a crash is counted, not fatal; the same
case is then run the way genelang trains it (`runtime/channels_last`: a
stride-1 1x1 conv of the subsampled input) and its weight gradient compared
with float64. Exit status 1 while torch's own path still crashes or is wrong.

    python bench/repro_strided_pointwise.py [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genelang.runtime.channels_last import SubsampledPointwiseConv2d  # noqa: E402

CASES = [(n, c, hw) for n in (3, 5, 15, 63) for c in (2, 4, 8, 12, 16) for hw in (16, 28)]


def weight_grad_error(n: int, c: int, hw: int, threads: int, genelang: bool) -> float:
    """Relative L2 error, against float64, of the 1x1 stride-2 conv's weight gradient in channels_last."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, w = torch.randn(n, c, hw, hw, dtype=torch.float64), torch.randn(c, c, 1, 1, dtype=torch.float64)
    gy = torch.randn(n, c, (hw + 1) // 2, (hw + 1) // 2, dtype=torch.float64)
    ref = torch.nn.grad.conv2d_weight(x, w.shape, gy, stride=2)
    conv = torch.nn.Conv2d(c, c, 1, 2, bias=False)
    if genelang:
        conv.__class__ = SubsampledPointwiseConv2d
    conv.weight.data = w.float()
    conv.to(memory_format=torch.channels_last)
    worst = 0.0
    for _ in range(5):
        conv.weight.grad = None
        conv(x.float().contiguous(memory_format=torch.channels_last)).backward(
            gy.float().contiguous(memory_format=torch.channels_last))
        worst = max(worst, ((conv.weight.grad.double() - ref).norm() / ref.norm()).item())
    return worst


def in_child(*args) -> str:
    """The case's error as text, run in a forked child; 'crash' when the child
    dies, 'error' when oneDNN raises."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, f"{weight_grad_error(*args):.1e}".encode())
        except RuntimeError:
            os.write(w, b"error")
        finally:
            os._exit(0)
    os.close(w)
    out = os.read(r, 64).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return out or "crash"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {args.threads} threads; 1x1 conv, stride 2, channels_last, weight gradient")
    counts = {"torch": 0, "genelang": 0}
    for case in CASES:
        res = {path: in_child(*case, args.threads, path == "genelang") for path in counts}
        for path, r in res.items():
            counts[path] += r in ("crash", "error") or float(r) > 1e-4
        print(f"  batch {case[0]:2d}, C={case[1]:2d}, {case[2]}x{case[2]}: torch {res['torch']:>7}   "
              f"genelang {res['genelang']:>7}", flush=True)
    print(f"{len(CASES)} cases: torch's kernel crashed or was wrong in {counts['torch']}, "
          f"genelang's path in {counts['genelang']}")
    return 1 if counts["torch"] else 0


if __name__ == "__main__":
    sys.exit(main())
