"""Training a supernet: each optimizer step trains a sampler's group of paths
on one minibatch (gradients summed over the group, FairNAS), SGD with
momentum and a cosine learning rate over all steps.

What a step computes is the supernet's objective: `net.objective(task,
batch_size, seed)` where it has one (the rnn supernet: truncated BPTT with the
hidden state carried from step to step, `runtime.tbptt`), else
classification of one minibatch (`Classify`).

Every step's randomness derives from (seed, step): the group, the minibatch
(one seeded permutation of the training split per epoch) and its augmentation.
A checkpoint (model, optimizer, scheduler, step, the objective's carried
state) written atomically every `checkpoint_every` steps is therefore all a
resumed run needs to reach the same weights as an uninterrupted one, whenever
it was killed.

`keep=k` also keeps the model of the last k checkpoints before the stop
(`model-{step}.pt`, written before the checkpoint that moves past them) for
checkpoint ensembling: `ensemble_steps` says which steps they are.
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Protocol

import torch
from torch import nn

from genelang.atomic import atomic_write
from genelang.runtime.config import TaskConfig
from genelang.runtime.supernet.net import Supernet
from genelang.runtime.supernet.sampling import PathSampler

CHECKPOINT = "checkpoint.pt"
SNAPSHOT = "model-{step}.pt"
StepCallback = Callable[[int, int, float], None]     # (step done, total steps, its loss)


@dataclass(frozen=True)
class SupernetTraining:
    steps: int
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 3e-4
    batch_size: int = 64
    checkpoint_every: int = 100
    grad_clip: float = 5.0
    seed: int = 0


@dataclass
class SupernetTrained:
    step: int                 # optimizer steps done (== config.steps when finished)
    loss: float | None        # the last step's summed loss (None: nothing trained in this call)
    seconds: float            # spent in this call
    checkpoint: Path


class _Batches:
    """Minibatch `step` of the training split, a function of (seed, step)."""

    def __init__(self, task: TaskConfig, batch_size: int, seed: int):
        from genelang.runtime.task_data import augmentation, task_data
        data, s = task_data(task)
        self.x, self.y = s.train
        self.augment = augmentation(task, data)
        self.bs, self.seed = min(batch_size, len(self.y)), seed
        self.per_epoch = len(self.y) // self.bs
        self._epoch, self._perm = -1, None

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, b = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(len(self.y), generator=g)
        idx = self._perm[b * self.bs:(b + 1) * self.bs]
        x, y = self.x[idx], self.y[idx]
        if self.augment:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed * 1_000_003 + step)
                x, y = self.augment((x, y))
        return x, y


class Objective(Protocol):
    def step(self, paths: list[nn.Module], step: int, device: str) -> float:
        """Backward of every path's loss on step `step`'s data; the summed loss."""

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


class Classify:
    """Cross-entropy of each path on minibatch `step` (`_Batches`)."""

    def __init__(self, task: TaskConfig, batch_size: int, seed: int):
        self.batches = _Batches(task, batch_size, seed)
        self.loss_fn = nn.CrossEntropyLoss()

    def step(self, paths: list[nn.Module], step: int, device: str) -> float:
        x, y = (t.to(device) for t in self.batches(step))
        loss = 0.0
        for path in paths:   # summed gradients: each path's blocks get a whole step's worth
            batch_loss = self.loss_fn(path(x), y)
            batch_loss.backward()
            loss += batch_loss.item()
        return loss

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _optimizer(net: nn.Module, cfg: SupernetTraining):
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps)


def load_checkpoint(path: Path, device: str = "cpu") -> dict | None:
    return torch.load(path, map_location=device, weights_only=True) if path.exists() else None


def ensemble_steps(stop: int, every: int, k: int) -> list[int]:
    """The steps of the last k checkpoints up to `stop`, newest first: `stop`
    and the multiples of `every` below it (fewer where there are not k)."""
    below = range(((stop - 1) // every) * every, 0, -every)
    return [stop, *below][:k]


def snapshot_path(out_dir: str | Path, step: int) -> Path:
    return Path(out_dir) / SNAPSHOT.format(step=step)


def load_snapshot(out_dir: str | Path, step: int, device: str = "cpu") -> dict | None:
    """The model state kept at `step` (`keep`), or None."""
    return load_checkpoint(snapshot_path(out_dir, step), device)


def _save(path: Path, net, opt, sched, step: int, cfg: SupernetTraining, objective: Objective) -> None:
    state = {"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "step": step, "config": asdict(cfg), "objective": objective.state_dict()}
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def train_supernet(net: Supernet, sampler: PathSampler, task: TaskConfig, cfg: SupernetTraining,
                   out_dir: str | Path, *, device: str = "cpu",
                   progress: StepCallback | None = None, until: int | None = None,
                   keep: int = 0) -> SupernetTrained:
    """Train `net` for `cfg.steps` optimizer steps (or up to step `until`: one
    segment of a schedule over `cfg.steps`), resuming from `out_dir`'s checkpoint;
    a checkpoint already there returns at once. `keep`: keep the model of the
    last `keep` checkpoints up to the stop (`ensemble_steps`)."""
    stop = cfg.steps if until is None else min(until, cfg.steps)
    path = Path(out_dir) / CHECKPOINT
    kept = set(ensemble_steps(stop, cfg.checkpoint_every, keep))
    net.to(device)
    opt, sched = _optimizer(net, cfg)
    step, loss, t0 = 0, None, time.perf_counter()
    make_objective = getattr(net, "objective", None)
    objective = (make_objective(task, cfg.batch_size, cfg.seed) if make_objective is not None
                 else Classify(task, cfg.batch_size, cfg.seed))
    saved = load_checkpoint(path, device)
    if saved is not None:
        net.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        objective.load_state_dict(saved.get("objective", {}))
        step = saved["step"]
    net.train()
    while step < stop:
        group = sampler.next_group(random.Random(f"{cfg.seed}:{step}"))
        opt.zero_grad(set_to_none=True)
        loss = objective.step([net.path(net.shape.genome(syms)) for syms in group], step, device)
        if torch.isfinite(nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)):
            opt.step()      # a non-finite gradient would poison the weights every path shares
        sched.step()
        step += 1
        if step % cfg.checkpoint_every == 0 or step == stop:
            if step in kept:   # before the checkpoint: a run resumed past it finds it written
                atomic_write(snapshot_path(out_dir, step), lambda tmp: torch.save(net.state_dict(), tmp))
            _save(path, net, opt, sched, step, cfg, objective)
        if progress is not None:
            progress(step, cfg.steps, loss)
    return SupernetTrained(step, loss, time.perf_counter() - t0, path)
