"""The differentiable search itself: epochs of alternating architecture and
weight steps on the two halves of the training split, a checkpoint and the
α history each epoch, the derived genomes at the end.

Each epoch the weights' learning rate follows a cosine (DARTS: 0.025 → 0.001,
SGD momentum 0.9, weight decay 3e-4, gradients clipped at 5); α uses Adam
(lr 3e-4, betas (0.5, 0.999), weight decay 1e-3). Every random draw is a
function of (seed, epoch, step): the halves' order each epoch, the
augmentation, GDAS's noise. A checkpoint (network, α, both optimizers, the
schedule, the history) written atomically after every epoch is therefore all a
run killed at any moment (SIGKILL included) needs to reach the α an
uninterrupted run reaches.
"""
from __future__ import annotations

import math
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from genelang.atomic import atomic_write
from genelang.compiler.ast import Genome
from genelang.compiler.printer import format_genome
from genelang.differentiable import bilevel
from genelang.differentiable.architecture import Architecture
from genelang.differentiable.hardware import COSTS, LATENCY, HardwareLoss, HardwareTarget
from genelang.differentiable.history import plot_history, write_history
from genelang.differentiable.methods import HardGumbel, Method
from genelang.differentiable.relaxation import CostGrid, PriceGrid, Relaxation

CHECKPOINT = "checkpoint.pt"
StepCallback = Callable[[int, int, float], None]     # (steps done, total steps, the step's loss)


@dataclass(frozen=True)
class Schedule:
    epochs: int
    batch_size: int = 64
    seed: int = 0
    order: int = 1                    # 1: first-order; 2: unrolled second order
    warmup_epochs: int = 0            # epochs of weight steps only before α moves
    C: int = 16                       # the mixed network's width and cells per stage
    N: int = 5
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    beta_decay: float = 0.0           # β-DARTS: λ, raised linearly from 0 over the search


@dataclass
class BilevelData:
    weights: tuple[torch.Tensor, torch.Tensor]    # the half that trains the network's weights
    arch: tuple[torch.Tensor, torch.Tensor]       # the half that trains α
    num_classes: int
    augment: Callable | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.weights[0].shape[1:])


@dataclass
class Searched:
    alphas: list[list[float]]
    genomes: list[Genome]             # the most probable first (the argmax)
    history: list[dict]
    seconds: float                    # spent searching, over every run of this directory
    peak_memory_mb: float
    out_dir: Path
    plot: Path | None = None
    extra: dict = field(default_factory=dict)


def _peak_memory_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(device) / 2**20
    # ru_maxrss is in KiB on Linux, bytes on macOS: the process's peak resident memory
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


class _Halves:
    """Batch b of epoch e of each half: a function of (seed, e, b)."""

    def __init__(self, data: BilevelData, batch_size: int, seed: int, device: str):
        self.d, self.seed, self.device = data, seed, device
        self.bs = max(1, min(batch_size, len(data.weights[1]), len(data.arch[1])))
        self.steps = min(len(data.weights[1]), len(data.arch[1])) // self.bs
        self._perms: dict[tuple[int, int], torch.Tensor] = {}

    def _perm(self, half: int, epoch: int, n: int) -> torch.Tensor:
        if (half, epoch) not in self._perms:
            self._perms = {k: v for k, v in self._perms.items() if k[1] == epoch}   # the epoch's two only
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + 2 * epoch + half)
            self._perms[half, epoch] = torch.randperm(n, generator=g)
        return self._perms[half, epoch]

    def __call__(self, half: int, epoch: int, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.d.weights if half == 0 else self.d.arch
        idx = self._perm(half, epoch, len(y))[b * self.bs:(b + 1) * self.bs]
        x, y = x[idx], y[idx]
        if self.d.augment:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed * 1_000_003 + 2 * (epoch * self.steps + b) + half)
                x, y = self.d.augment((x, y))
        return x.to(self.device), y.to(self.device)


def _generator(seed: int, step: int, which: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + 3 * step + which)


class RelaxedSearch:
    def __init__(self, relaxation: Relaxation, method: Method, schedule: Schedule, data: BilevelData,
                 out_dir: str | Path, *, device: str = "cpu", autocast=None,
                 hardware: HardwareTarget | None = None, latency: PriceGrid | None = None, derive: int = 1,
                 progress: StepCallback | None = None):
        """`hardware`: a hardware loss's target (None: none); `latency`: the derived
        network's latency per (position, choice) in ms (`hardware.latency_prices`;
        needed by a latency target, recorded when given); `autocast`: a context
        manager factory for mixed precision (None: full precision); `derive`: how
        many genomes to return, the most probable under the final α first."""
        self.r, self.m, self.s, self.data = relaxation, method, schedule, data
        self.out, self.device, self.derive, self.progress = Path(out_dir), device, derive, progress
        self.autocast = autocast
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(schedule.seed)
            self.net = relaxation.network(method, C=schedule.C, N=schedule.N, num_classes=data.num_classes,
                                          in_channels=data.input_shape[0]).to(device)
        self.arch = Architecture([len(p.choices) for p in relaxation.positions],
                                 relaxation.groups if method.edge_normalisation else (), seed=schedule.seed).to(device)
        self.grid: CostGrid = relaxation.costs(num_classes=data.num_classes, input_shape=data.input_shape)
        # what each epoch's record prices, expected under α and for the derived genome
        self.prices: dict[str, PriceGrid] = {c: self.grid.prices(c) for c in COSTS}
        if latency is not None:
            self.prices[f"{LATENCY}_ms"] = latency
        if hardware and hardware.cost == LATENCY and latency is None:
            raise ValueError("a latency target needs the latency grid (differentiable.hardware.latency_prices)")
        self.hardware = (HardwareLoss(latency if hardware.cost == LATENCY else self.prices[hardware.cost], hardware)
                         if hardware else None)
        s = schedule
        self.w_opt = torch.optim.SGD(self.net.parameters(), lr=s.w_lr, momentum=s.w_momentum,
                                     weight_decay=s.w_weight_decay)
        self.w_sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.w_opt, T_max=s.epochs, eta_min=s.w_lr_min)
        self.a_opt = torch.optim.Adam(self.arch.parameters(), lr=s.arch_lr, betas=s.arch_betas,
                                      weight_decay=s.arch_weight_decay)
        self.halves = _Halves(data, s.batch_size, s.seed, device)
        self.epoch, self.history, self.seconds = 0, [], 0.0
        self._resume()

    # --- checkpoint -----------------------------------------------------------------------------
    def _resume(self) -> None:
        path = self.out / CHECKPOINT
        if not path.exists():
            return
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.net.load_state_dict(state["net"])
        self.arch.load_state_dict(state["arch"])
        self.w_opt.load_state_dict(state["w_opt"])
        self.a_opt.load_state_dict(state["a_opt"])
        self.w_sched.load_state_dict(state["w_sched"])
        self.epoch, self.history, self.seconds = state["epoch"], state["history"], state["seconds"]

    def _save(self) -> None:
        state = {"net": self.net.state_dict(), "arch": self.arch.state_dict(), "w_opt": self.w_opt.state_dict(),
                 "a_opt": self.a_opt.state_dict(), "w_sched": self.w_sched.state_dict(), "epoch": self.epoch,
                 "history": self.history, "seconds": self.seconds, "schedule": asdict(self.s)}
        atomic_write(self.out / CHECKPOINT, lambda tmp: torch.save(state, tmp))
        write_history(self.out, self.history, self.summary())

    # --- steps ----------------------------------------------------------------------------------
    def _progress(self, epoch: int) -> float:
        return epoch / max(1, self.s.epochs - 1)

    def _penalty(self, epoch: int):
        def penalty():
            total = 0.0
            if self.hardware is not None:
                total = total + self.hardware(self.arch.probs())
            if self.s.beta_decay:
                lam = self.s.beta_decay * (epoch + 1) / self.s.epochs
                total = total + lam * torch.stack([torch.logsumexp(a, dim=-1) for a in self.arch.alpha]).mean()
            return total
        return penalty

    def _context(self):
        import contextlib
        return self.autocast() if self.autocast is not None else contextlib.nullcontext()

    def _arch_step(self, epoch: int, step: int, train, val) -> float:
        prog = self._progress(epoch)

        def sample():   # the step's noise fixed: every call differentiates the same draw
            return self.m.sample(self.arch, _generator(self.s.seed, step, 0), prog)
        self.a_opt.zero_grad(set_to_none=True)
        alphas = list(self.arch.parameters())
        with self._context():
            if self.s.order == 2:
                loss = bilevel.second_order(self.net, alphas, sample, train, val, self.w_opt,
                                            self.w_opt.param_groups[0]["lr"], self._penalty(epoch))
            else:
                loss = bilevel.first_order(self.net, alphas, sample, val, self._penalty(epoch))
        self.a_opt.step()
        return float(loss)

    def _weight_step(self, epoch: int, step: int, batch) -> tuple[float, float]:
        x, y = batch
        self.w_opt.zero_grad(set_to_none=True)
        with self._context():
            with torch.no_grad():   # α is fixed during the weights' step
                sample = self.m.sample(self.arch, _generator(self.s.seed, step, 1), self._progress(epoch))
            out = self.net(x, sample)
            loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.net.parameters(), self.s.grad_clip)
        self.w_opt.step()
        return float(loss.detach()), float((out.argmax(1) == y).float().mean())

    # --- the search -----------------------------------------------------------------------------
    def run(self) -> Searched:
        self.net.train()
        steps = self.halves.steps
        total = steps * self.s.epochs
        while self.epoch < self.s.epochs:
            t0, e = time.perf_counter(), self.epoch
            sums = {"train_loss": 0.0, "train_acc": 0.0, "arch_loss": 0.0}
            for b in range(steps):
                step = e * steps + b
                train, val = self.halves(0, e, b), self.halves(1, e, b)
                if e >= self.s.warmup_epochs:
                    sums["arch_loss"] += self._arch_step(e, step, train, val)
                loss, acc = self._weight_step(e, step, train)
                sums["train_loss"] += loss
                sums["train_acc"] += acc
                if self.progress is not None:
                    self.progress(step + 1, total, loss)
            self.w_sched.step()
            self.epoch += 1
            self.seconds += time.perf_counter() - t0
            self.history.append(self._record(e, {k: v / max(1, steps) for k, v in sums.items()}))
            self._save()
        plot = plot_history(self.out, self.history, [p.name for p in self.r.positions],
                            [list(p.choices) for p in self.r.positions])
        with torch.no_grad():
            genomes = [self.r.genome(ix, f"derived_{k}" if k else "derived")
                       for k, ix in enumerate(self.r.ranked(self.arch, self.derive))]
        return Searched(self.arch.snapshot(), genomes, self.history, self.seconds,
                        _peak_memory_mb(self.device), self.out, plot, self.summary())

    def _record(self, epoch: int, means: dict) -> dict:
        with torch.no_grad():
            probs = self.arch.probs()
            picked = self.r.ranked(self.arch, 1)[0]
            rec = {"epoch": epoch, "alpha": self.arch.snapshot(), "probs": [p.tolist() for p in probs],
                   "derived": [self.r.positions[p].choices[i] for p, i in enumerate(picked)],
                   "genome": format_genome(self.r.genome(picked)), **self.r.shares(picked), **means,
                   "seconds": self.seconds}
            for c, grid in self.prices.items():
                rec[f"expected_{c}"] = float(grid.expected(probs))
                rec[f"derived_{c}"] = grid.of(picked)
            if self.arch.beta:
                rec["beta"] = [b.detach().cpu().tolist() for b in self.arch.beta]
            if isinstance(self.m, HardGumbel):
                rec["tau"] = self.m.tau(self._progress(epoch))
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()}

    def summary(self) -> dict:
        return {"method": self.m.name, "relaxation": self.r.space, "epochs_done": self.epoch,
                "epochs": self.s.epochs, "steps_per_epoch": self.halves.steps, "seconds": round(self.seconds, 3),
                "peak_memory_mb": round(_peak_memory_mb(self.device), 1), "device": self.device,
                "schedule": asdict(self.s)}
