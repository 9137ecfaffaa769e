"""The training API: build a model for (genome, task), train it for a budget,
return metrics. `genelang train` and the evolution's `train` fitness call this.

    result = train_genome(genome, TaskConfig("fashion-mnist", subset=2000),
                          ModelConfig(C=8, N=1), epochs=1, seed=0)
    result.metrics["val_acc"]

`evaluate(model, task)` scores a model without training; `sample_batch(task)`
gives one training minibatch (for zero-cost proxies).
"""
from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.printer import format_genome
from genelang.runtime.data import TensorBatches, loader, split
from genelang.runtime.networks import build_network
from genelang.runtime.tasks import get_task


@dataclass(frozen=True)
class TaskConfig:
    name: str = "fashion-mnist"
    root: str | None = None
    subset: int | None = None        # training samples kept (None: all)
    val: float | int = 0.1           # validation fraction (float) or count (int) of the training set
    batch_size: int = 64
    split_seed: int = 0              # the same split for every genome and seed of a study


@dataclass(frozen=True)
class ModelConfig:
    skeleton: str = "nasgep"
    C: int = 16
    N: int = 1
    layers: int = 8
    auxiliary: bool = False
    drop_path: float = 0.0


@dataclass
class TrainResult:
    metrics: dict[str, float]
    params: int
    seconds: float
    epochs: int
    history: list[dict] = field(default_factory=list)
    model: nn.Module | None = field(default=None, repr=False)


@lru_cache(maxsize=4)
def _load(name: str, root: str | None):
    return get_task(name)(root=root)


def task_data(task: TaskConfig):
    data = _load(task.name, task.root)
    s = split((data.train_x, data.train_y), task.val, task.split_seed, task.subset)
    return data, s


def make_model(genome: Genome, task: TaskConfig, model: ModelConfig = ModelConfig()) -> nn.Module:
    data = _load(task.name, task.root)
    return build_network(genome, model.skeleton, C=model.C, N=model.N, layers=model.layers,
                         num_classes=data.num_classes, in_channels=data.in_channels,
                         auxiliary=model.auxiliary, drop_path=model.drop_path)


def sample_batch(task: TaskConfig, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    _, s = task_data(task)
    idx = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(seed))
    idx = idx[: task.batch_size]
    return s.train[0][idx], s.train[1][idx]


@torch.no_grad()
def evaluate(model: nn.Module, task: TaskConfig, split_name: str = "val") -> dict[str, float]:
    data, s = task_data(task)
    x, y = (s.val if split_name == "val" else (data.test_x, data.test_y))
    model.eval()
    correct, loss, n = 0, 0.0, 0
    for i in range(0, len(y), 256):
        logits = model(x[i:i + 256])
        loss += torch.nn.functional.cross_entropy(logits, y[i:i + 256], reduction="sum").item()
        correct += (logits.argmax(1) == y[i:i + 256]).sum().item()
        n += len(y[i:i + 256])
    return {f"{split_name}_acc": correct / n, f"{split_name}_loss": loss / n}


def quiet_lightning() -> None:
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    warnings.filterwarnings("ignore", ".*GPU available.*")
    warnings.filterwarnings("ignore", ".*TPU available.*")


def _rich_bar():
    from pytorch_lightning.callbacks import RichProgressBar
    return RichProgressBar(leave=True)


def train_genome(genome: Genome, task: TaskConfig | dict = TaskConfig(),
                 model: ModelConfig | dict = ModelConfig(), *, epochs: int = 1, lr: float = 0.05,
                 seed: int = 0, quiet: bool = True, out_dir: str | Path | None = None,
                 test: bool = False, max_time: float | None = None, net: nn.Module | None = None,
                 callbacks: list | None = None) -> TrainResult:
    """Train `genome` on `task`; validation metrics of the last epoch (and test
    metrics when `test`). `net` trains an already built network instead (weight
    inheritance)."""
    import pytorch_lightning as pl

    from genelang.runtime.lightning import ImageClassifier

    task = TaskConfig(**task) if isinstance(task, dict) else task
    model = ModelConfig(**model) if isinstance(model, dict) else model
    if quiet:
        quiet_lightning()
    pl.seed_everything(seed, workers=False, verbose=False)
    data, s = task_data(task)
    net = net if net is not None else make_model(genome, task, model)
    module = ImageClassifier(net, lr=lr, epochs=epochs)
    history: list[dict] = []

    class _History(pl.Callback):
        def on_validation_epoch_end(self, trainer, _module):
            if not trainer.sanity_checking:
                history.append({k: float(v) for k, v in trainer.callback_metrics.items()}
                               | {"epoch": trainer.current_epoch})

    logger = False
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        from pytorch_lightning.loggers import CSVLogger
        logger = CSVLogger(str(out_dir), name="logs")
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, logger=logger,
        enable_checkpointing=out_dir is not None,
        default_root_dir=str(out_dir) if out_dir else None,
        enable_progress_bar=not quiet, enable_model_summary=False, num_sanity_val_steps=0,
        gradient_clip_val=5.0, deterministic=False,
        max_time={"seconds": max_time} if max_time else None,
        callbacks=[_History(), *([] if quiet else [_rich_bar()]), *(callbacks or [])])
    train_dl = loader(TensorBatches(*s.train), task.batch_size, shuffle=True, seed=seed)
    val_dl = loader(TensorBatches(*s.val), 256, shuffle=False)
    t0 = time.perf_counter()
    trainer.fit(module, train_dl, val_dl)
    seconds = time.perf_counter() - t0
    metrics = {k: v for k, v in (history[-1] if history else {}).items() if k != "epoch"}
    if test:
        test_dl = loader(TensorBatches(data.test_x, data.test_y), 256, shuffle=False)
        out = trainer.test(module, test_dl, verbose=False)
        metrics.update({k: float(v) for k, v in out[0].items()})
    params = sum(p.numel() for p in net.parameters())
    result = TrainResult(metrics, params, seconds, trainer.current_epoch, history, net)
    if out_dir is not None:
        torch.save(net.state_dict(), out_dir / "model.pt")
        (out_dir / "genome.gene").write_text(format_genome(genome))
        (out_dir / "metrics.json").write_text(json.dumps(
            {"metrics": metrics, "params": params, "seconds": seconds, "history": history,
             "task": asdict(task), "model": asdict(model), "epochs": epochs, "seed": seed}, indent=2))
    return result
