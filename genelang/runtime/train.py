"""The training API: build a model for (genome, task), train it for a budget,
return metrics. `genelang train` and the evolution's `train` fitness call this.

    result = train_genome(genome, TaskConfig("fashion-mnist", subset=2000),
                          ModelConfig(C=8, N=1), epochs=1, seed=0)
    result.metrics["val_acc"]

The network comes from `runtime/models.make_model`, the data from
`runtime/task_data`; `runtime/scoring.evaluate` scores a model without training.
"""
from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from genelang.atomic import atomic_write
from genelang.compiler.ast import Genome
from genelang.compiler.printer import format_genome
from genelang.runtime.channels_last import leave as leave_channels_last
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.heap import keep_freed_memory
from genelang.runtime.data import DeviceBatches, TensorBatches, loader
from genelang.runtime.devices import is_gpu, lightning_devices, lightning_precision
from genelang.runtime.models import make_model
from genelang.runtime.preprocess import Preprocess
from genelang.runtime.task_data import augmentation, device_split, is_sequence, task_data


@dataclass
class TrainResult:
    metrics: dict[str, float]
    params: int
    seconds: float
    epochs: int
    history: list[dict] = field(default_factory=list)
    model: nn.Module | None = field(default=None, repr=False)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, where the caller turns it into one) during training.
    `result` holds the metrics of the epochs finished before it and, with an
    `out_dir`, the model as the last of them left it, saved there: `saved`
    (None without an `out_dir`, or when no epoch had finished)."""

    def __init__(self, result: TrainResult, epochs: int, saved: Path | None):
        super().__init__(f"interrupted after {result.epochs} of {epochs} epoch(s)")
        self.result, self.epochs, self.saved = result, epochs, saved


def on_accelerator(device: str) -> bool:
    """Whether an image task's batches are kept and sliced on the device
    (GPUs) rather than drawn by a DataLoader from host memory (the CPU)."""
    return is_gpu(device)


def _batches(s, task: TaskConfig, data, seed: int, on_device: bool):
    """(train, validation) batches of a split: shuffled and augmented for training."""
    aug = None if is_sequence(data) else augmentation(task, data)
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

    task = TaskConfig(**task) if isinstance(task, dict) else task
    model = ModelConfig(**model) if isinstance(model, dict) else model
    accelerator, devices = lightning_devices(device)
    lightning_prec = lightning_precision(precision, device)
    if quiet:
        quiet_lightning()
    # batches come from memory by design; Lightning's advice to add workers does not apply
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    pl.seed_everything(seed, workers=False, verbose=False)
    if not is_gpu(device):
        keep_freed_memory()
    data, s = task_data(task)
    net = net if net is not None else make_model(genome, task, model)
    sequence = is_sequence(data)
    step_net = net
    if model.compile:
        # The compiled wrapper shares net's parameters; net itself is what is
        # saved, so state dicts keep their plain keys.
        step_net = torch.compile(net, backend=model.compile)
    module = _lightning_module(step_net, data, model, lr, epochs, device, lightning_prec)
    history: list[dict] = []
    finished: dict[str, torch.Tensor] = {}     # the weights as the last finished epoch left them

    class _History(pl.Callback):
        def on_train_epoch_end(self, trainer, _module):   # after this epoch's validation
            if not trainer.sanity_checking:
                history.append({k: float(v) for k, v in trainer.callback_metrics.items()}
                               | {"epoch": trainer.current_epoch})
                if out_dir is not None:       # kept for an interruption in a later epoch
                    finished.update({k: v.detach().clone() for k, v in net.state_dict().items()})

    out_dir = Path(out_dir) if out_dir is not None else None
    logger = _loggers(out_dir)
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
    try:
        interrupted = _fit(trainer, module, train_dl, val_dl)
    finally:
        leave_channels_last(net)    # what is returned, saved and exported is torch's own modules
    seconds = time.perf_counter() - t0
    metrics = _last_metrics(history)
    settings = {"task": asdict(task), "model": asdict(model), "epochs": epochs, "seed": seed, "lr": module.lr}
    if interrupted:
        _keep_finished(net, finished, TrainResult(metrics, 0, seconds, len(history), history, net),
                       out_dir, genome, data, settings)
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
        _save(out_dir, result, genome, data, settings)
    return result


def _fit(trainer, module, train_dl, val_dl) -> bool:
    """`trainer.fit`; True when Ctrl-C (a KeyboardInterrupt) stopped it. Lightning
    then exits the process with status 1 and leaves SIGINT ignored: both undone
    here, so the caller can keep the finished epochs."""
    import signal
    import threading
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    try:
        trainer.fit(module, train_dl, val_dl)
    except SystemExit:
        if not trainer.interrupted:
            raise
        return True
    finally:
        if main:
            signal.signal(signal.SIGINT, before)
    return False


def _last_metrics(history: list[dict]) -> dict[str, float]:
    """The last finished epoch's metrics, plus `score`, the number a search maximises."""
    metrics = {k: v for k, v in (history[-1] if history else {}).items() if k != "epoch"}
    for key, sign in (("val_acc", 1), ("val_f1", 1), ("val_ppl", -1), ("val_mse", -1)):
        if key in metrics:
            metrics["score"] = sign * metrics[key]
            break
    return metrics


def _keep_finished(net: nn.Module, finished: dict, result: TrainResult, out_dir: Path | None, genome: Genome,
                   data, settings: dict) -> None:
    """After an interruption: the model of the last finished epoch (saved like a
    finished training, marked `interrupted` in metrics.json), then raise."""
    if finished:
        net.load_state_dict(finished)
    net.cpu()
    result.params = sum(p.numel() for p in net.parameters())
    saved = None
    if out_dir is not None and result.epochs:
        _save(out_dir, result, genome, data, settings | {"interrupted": True, "epochs_done": result.epochs})
        saved = out_dir
    raise TrainingInterrupted(result, settings["epochs"], saved)


def _lightning_module(net: nn.Module, data, model: ModelConfig, lr: float | None, epochs: int, device: str,
                      precision):
    """What a training step is for the task's kind (Lightning's LightningModule)."""
    from genelang.runtime.lightning import ImageClassifier, SequenceTask
    if is_sequence(data):
        return SequenceTask(net, data.kind, lr=lr or 3e-3, labels=data.labels, num_classes=data.num_classes)
    return ImageClassifier(net, lr=lr or 0.05, epochs=epochs, channels_last=wants_channels_last(model, device),
                           num_classes=data.num_classes,
                           bf16_cpu=not is_gpu(device) and str(precision).startswith("bf16"))


def wants_channels_last(model: ModelConfig, device: str) -> bool:
    """`model.channels_last`, None meaning on the CPU: there its convolutions,
    pooling and elementwise kernels train small candidates 1.6–1.8× faster
    (CPU time, bench/RESULTS.md, 2026-12-06); on a GPU it is unmeasured, so off."""
    return (not is_gpu(device)) if model.channels_last is None else model.channels_last


def _loggers(out_dir: Path | None):
    """CSV logs in `out_dir` (and TensorBoard's, when it is installed); none without one."""
    if out_dir is None:
        return False
    out_dir.mkdir(parents=True, exist_ok=True)
    from pytorch_lightning.loggers import CSVLogger
    logger = [CSVLogger(str(out_dir), name="logs")]
    try:
        import tensorboard  # noqa: F401
        from pytorch_lightning.loggers import TensorBoardLogger
        logger.append(TensorBoardLogger(str(out_dir), name="tensorboard"))
    except ImportError:
        pass
    return logger


def _save(out_dir: Path, result: TrainResult, genome: Genome, data, settings: dict) -> None:
    """`train --out`: the weights, the genome and metrics.json (what `compile` ships from)."""
    atomic_write(out_dir / "model.pt", lambda p: torch.save(result.model.state_dict(), p))
    atomic_write(out_dir / "genome.gene", format_genome(genome))
    atomic_write(out_dir / "metrics.json", json.dumps(
        {"metrics": result.metrics, "params": result.params, "seconds": result.seconds, "history": result.history,
         **settings, "preprocess": Preprocess.of(data).record()}, indent=2))
