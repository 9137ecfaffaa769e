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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from genelang.atomic import atomic_write
from genelang.compiler.ast import Genome
from genelang.compiler.registry import get_space
from genelang.compiler.printer import format_genome
from genelang.errors import GenelangError
from genelang.runtime.augment import Augment
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.data import DeviceBatches, TensorBatches, loader, split
from genelang.runtime.devices import is_gpu, lightning_devices, lightning_precision
from genelang.runtime.build import space_network
from genelang.runtime.preprocess import Preprocess
from genelang.runtime.tasks import get_task


@dataclass
class TrainResult:
    metrics: dict[str, float]
    params: int
    seconds: float
    epochs: int
    history: list[dict] = field(default_factory=list)
    model: nn.Module | None = field(default=None, repr=False)


class Recent:
    """The most recent `maxsize` values made by key (0: keep nothing)."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._items: dict[tuple, object] = {}

    def get_or_make(self, key: tuple, make):
        if key in self._items:
            self._items[key] = self._items.pop(key)   # most recently used last
            return self._items[key]
        value = make()
        if self.maxsize > 0:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.pop(next(iter(self._items)))
        return value

    def clear(self) -> None:
        self._items.clear()


class DataCache(Recent):
    """Loaded task data by (task, root, vectors, dataset), the most recent
    `maxsize` kept: a search's worker loads its task once. Callers control it:
    `data_cache.clear()`, or `data_cache.maxsize = 0` to keep nothing."""

    def __init__(self, maxsize: int = 4):
        super().__init__(maxsize)

    def get(self, name: str, root: str | None, vectors: str | None = None, dataset: str | None = None):
        return self.get_or_make((name, root, vectors, dataset),
                                lambda: get_task(name)(root=root, vectors=vectors, dataset=dataset))


data_cache = DataCache()
_load = data_cache.get


def _is_sequence(data) -> bool:
    return hasattr(data, "kind")


def task_data(task: TaskConfig):
    """(data, split): for image tasks a seeded train/val split of the training
    set; sequence tasks (text, time series) come with their own splits."""
    from genelang.runtime.data import Split
    data = _load(task.name, task.root, task.vectors, task.dataset)
    if _is_sequence(data):
        train = data.train if task.subset is None else tuple(t[: task.subset] for t in data.train)
        return data, Split(train, data.val)
    s = split((data.train_x, data.train_y), task.val, task.split_seed, task.subset)
    return data, s


# an image task's split on an accelerator, moved once per process: a search's
# GPU worker trains every candidate from the same device-resident tensors
device_splits = Recent(maxsize=2)


def device_split(task: TaskConfig, device: str):
    """`task_data(task)`'s split with its tensors on `device`, cached by (task, device)."""
    from genelang.runtime.data import Split
    key = (task.name, task.root, task.vectors, task.dataset, task.val, task.split_seed, task.subset, device)

    def move() -> Split:
        s = task_data(task)[1]
        return Split(tuple(t.to(device) for t in s.train), tuple(t.to(device) for t in s.val))
    return device_splits.get_or_make(key, move)


def make_model(genome: Genome, task: TaskConfig, model: ModelConfig = ModelConfig()) -> nn.Module:
    """The genome's network for `task`: its space's network for an image task,
    a sequence model around its recurrent cell for a text or time-series task."""
    data = _load(task.name, task.root, task.vectors, task.dataset)
    sequence = _is_sequence(data)
    space = get_space(genome.space)
    if (space.modality == "sequence") != sequence:
        raise GenelangError.at("task", f"a {genome.space} genome cannot train on task {task.name!r}", "task=",
                               hint=f"{genome.space} genomes read {space.modality} data; "
                                    f"task {task.name!r} gives {'sequence' if sequence else 'image'} data")
    if not sequence:
        return space_network(genome, model, num_classes=data.num_classes, input_shape=tuple(data.train_x.shape[1:]))
    from genelang.runtime.sequence import build_sequence_model
    lm = data.kind == "lm"
    return build_sequence_model(
        genome, head=data.kind, vocab_size=len(data.vocab) if lm else None,
        embeddings=None if lm else data.embeddings, freeze_embeddings=model.freeze_embeddings,
        input_size=getattr(data, "input_size", None),
        embed_dim=model.hidden, hidden=model.hidden, num_outputs=data.num_classes,
        layers=model.rnn_layers, dropout=model.dropout, bidirectional=model.bidirectional,
        tie_weights=lm)


def augmentation(task: TaskConfig, data) -> Augment:
    """The training augmentation of an image task: the task's default unless
    `task.augment` says otherwise, plus cutout when asked for."""
    aug = data.augment
    if task.augment is False:
        aug = Augment()
    elif task.augment and not (aug.pad or aug.flip):
        aug = Augment(pad=max(1, data.image_size // 8), flip=True)
    return replace(aug, cutout=task.cutout)


def sample_batch(task: TaskConfig, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    _, s = task_data(task)
    idx = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(seed))
    idx = idx[: task.batch_size]
    return s.train[0][idx], s.train[-1][idx]


@torch.no_grad()
def evaluate(model: nn.Module, task: TaskConfig, split_name: str = "val") -> dict[str, float]:
    data, s = task_data(task)
    if _is_sequence(data):
        raise ValueError("evaluate() scores image tasks; train sequence models with train_genome")
    x, y = (s.val if split_name == "val" else (data.test_x, data.test_y))
    model.eval()
    correct, loss, n = 0, 0.0, 0
    for i in range(0, len(y), 256):
        logits = model(x[i:i + 256])
        loss += torch.nn.functional.cross_entropy(logits, y[i:i + 256], reduction="sum").item()
        correct += (logits.argmax(1) == y[i:i + 256]).sum().item()
        n += len(y[i:i + 256])
    return {f"{split_name}_acc": correct / n, f"{split_name}_loss": loss / n}


def on_accelerator(device: str) -> bool:
    """Whether an image task's batches are kept and sliced on the device
    (GPUs) rather than drawn by a DataLoader from host memory (the CPU)."""
    return is_gpu(device)


def _batches(s, task: TaskConfig, data, seed: int, on_device: bool):
    """(train, validation) batches of a split: shuffled and augmented for training."""
    aug = None if _is_sequence(data) else augmentation(task, data)
    if on_device:
        return (DeviceBatches(s.train, task.batch_size, shuffle=True, seed=seed, transform=aug or None),
                DeviceBatches(s.val, 256))
    return (loader(TensorBatches(*s.train, transform=aug or None), task.batch_size, shuffle=True, seed=seed),
            loader(TensorBatches(*s.val), 256, shuffle=False))


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
                 model: ModelConfig | dict = ModelConfig(), *, epochs: int = 1, lr: float | None = None,
                 seed: int = 0, quiet: bool = True, out_dir: str | Path | None = None,
                 test: bool = False, max_time: float | None = None, net: nn.Module | None = None,
                 callbacks: list | None = None, device: str = "cpu",
                 precision: str | None = None) -> TrainResult:
    """Train `genome` on `task`; validation metrics of the last epoch (and test
    metrics when `test`), plus `score`, the number a search maximises: val_acc
    (classification), val_f1 (tagging), −val_ppl (language modelling) or
    −val_mse (forecasting). `net` trains an already built network instead
    (weight inheritance). `lr` defaults to 0.05 (SGD, images) or 0.003 (Adam,
    sequences). `device` is "cpu", "cuda" or "cuda:N" (`runtime/devices.py`);
    on a GPU an image task's tensors stay there between calls and batches are
    sliced and augmented on the device. `precision`: "32", "bf16-mixed" or
    "16-mixed" (GPU only); None: the runtime's default for the device
    (`config.DEFAULT_PRECISION`). The returned model is back on the CPU."""
    import pytorch_lightning as pl

    from genelang.runtime.lightning import ImageClassifier, SequenceTask

    task = TaskConfig(**task) if isinstance(task, dict) else task
    model = ModelConfig(**model) if isinstance(model, dict) else model
    accelerator, devices = lightning_devices(device)
    lightning_prec = lightning_precision(precision, device)
    if quiet:
        quiet_lightning()
    # batches come from memory by design; Lightning's advice to add workers does not apply
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    pl.seed_everything(seed, workers=False, verbose=False)
    data, s = task_data(task)
    net = net if net is not None else make_model(genome, task, model)
    sequence = _is_sequence(data)
    step_net = net
    if model.compile:
        # The compiled wrapper shares net's parameters; net itself is what is
        # saved, so state dicts keep their plain keys.
        step_net = torch.compile(net, backend=model.compile)
    if sequence:
        module = SequenceTask(step_net, data.kind, lr=lr or 3e-3, labels=data.labels, num_classes=data.num_classes)
    else:
        module = ImageClassifier(step_net, lr=lr or 0.05, epochs=epochs, channels_last=model.channels_last,
                                 num_classes=data.num_classes,
                                 bf16_cpu=not is_gpu(device) and str(lightning_prec).startswith("bf16"))
    history: list[dict] = []

    class _History(pl.Callback):
        def on_train_epoch_end(self, trainer, _module):   # after this epoch's validation
            if not trainer.sanity_checking:
                history.append({k: float(v) for k, v in trainer.callback_metrics.items()}
                               | {"epoch": trainer.current_epoch})

    logger = False
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        from pytorch_lightning.loggers import CSVLogger
        logger = [CSVLogger(str(out_dir), name="logs")]
        try:   # TensorBoard too, when it is installed
            import tensorboard  # noqa: F401
            from pytorch_lightning.loggers import TensorBoardLogger
            logger.append(TensorBoardLogger(str(out_dir), name="tensorboard"))
        except ImportError:
            pass
    on_device = not sequence and on_accelerator(device)
    train_dl, val_dl = _batches(device_split(task, device) if on_device else s, task, data, seed, on_device)
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator=accelerator, devices=devices, precision=lightning_prec, logger=logger,
        log_every_n_steps=max(1, min(50, len(train_dl))),   # small data logs too, without a warning
        enable_checkpointing=out_dir is not None,
        default_root_dir=str(out_dir) if out_dir else None,
        enable_progress_bar=not quiet, enable_model_summary=False, num_sanity_val_steps=0,
        gradient_clip_val=0.25 if sequence else 5.0, deterministic=False,
        max_time={"seconds": max_time} if max_time else None,
        callbacks=[_History(), *([] if quiet else [_rich_bar()]), *(callbacks or [])])
    t0 = time.perf_counter()
    trainer.fit(module, train_dl, val_dl)
    seconds = time.perf_counter() - t0
    metrics = {k: v for k, v in (history[-1] if history else {}).items() if k != "epoch"}
    for key, sign in (("val_acc", 1), ("val_f1", 1), ("val_ppl", -1), ("val_mse", -1)):
        if key in metrics:
            metrics["score"] = sign * metrics[key]
            break
    if test:
        test_set = data.test if sequence else (data.test_x, data.test_y)
        test_dl = (DeviceBatches(tuple(t.to(device) for t in test_set), 256) if on_device
                   else loader(TensorBatches(*test_set), 256, shuffle=False))
        out = trainer.test(module, test_dl, verbose=False)
        metrics.update({k: float(v) for k, v in out[0].items()})
    net.cpu()
    params = sum(p.numel() for p in net.parameters())
    result = TrainResult(metrics, params, seconds, trainer.current_epoch, history, net)
    if out_dir is not None:
        atomic_write(out_dir / "model.pt", lambda p: torch.save(net.state_dict(), p))
        atomic_write(out_dir / "genome.gene", format_genome(genome))
        atomic_write(out_dir / "metrics.json", json.dumps(
            {"metrics": metrics, "params": params, "seconds": seconds, "history": history,
             "task": asdict(task), "model": asdict(model), "epochs": epochs, "seed": seed,
             "lr": module.lr, "preprocess": Preprocess.of(data).record()}, indent=2))
    return result
