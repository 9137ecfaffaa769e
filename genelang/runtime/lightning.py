"""LightningModules: what a training step is for each task kind."""
from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError
from torchmetrics.classification import MulticlassAccuracy

from genelang.runtime import channels_last as cl


def _num_outputs(net: nn.Module) -> int:
    """Width of the network's output layer: its `classifier` or `out` Linear,
    else its last Linear."""
    for name in ("classifier", "out"):
        layer = getattr(net, name, None)
        if isinstance(layer, nn.Linear):
            return layer.out_features
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("cannot tell the number of classes; pass num_classes")
    return linears[-1].out_features


def _accuracy(num_classes: int) -> nn.ModuleDict:
    # micro average: the fraction of samples right, what papers call accuracy
    return nn.ModuleDict({p: MulticlassAccuracy(num_classes, average="micro") for p in ("val", "test")})


class ImageClassifier(pl.LightningModule):
    """Cross-entropy (+ 0.4 × auxiliary head loss, as DARTS), SGD with Nesterov
    momentum and a cosine schedule; accuracy on validation and test."""

    def __init__(self, net: nn.Module, lr: float = 0.05, weight_decay: float = 3e-4,
                 epochs: int = 1, aux_weight: float = 0.4, channels_last: bool = False, bf16_cpu: bool = False,
                 num_classes: int | None = None):
        super().__init__()
        self.net = net
        self.accuracy = _accuracy(num_classes or _num_outputs(net))
        self.lr, self.weight_decay, self.epochs, self.aux_weight = lr, weight_decay, epochs, aux_weight
        self.channels_last = channels_last and cl.channels_last_safe(net, bf16_cpu)
        if self.channels_last:
            cl.enter(self.net)    # train_genome leaves the path when the training ends

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def training_step(self, batch, _):
        x, y = batch
        x = self._prep(x)
        if getattr(self.net, "has_aux", False):
            logits, aux = self.net.forward_with_aux(x)
            loss = F.cross_entropy(logits, y)
            if aux is not None:
                loss = loss + self.aux_weight * F.cross_entropy(aux, y)
        else:
            logits = self.net(x)
            loss = F.cross_entropy(logits, y)
        if not torch.isfinite(loss):
            raise FloatingPointError("training loss is not finite")
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(y))
        return loss

    def _eval_step(self, batch, prefix: str):
        x, y = batch
        logits = self.net(self._prep(x))
        self.log(f"{prefix}_loss", F.cross_entropy(logits, y), on_epoch=True, batch_size=len(y))
        self.accuracy[prefix](logits, y)
        self.log(f"{prefix}_acc", self.accuracy[prefix], on_epoch=True, prog_bar=True, batch_size=len(y))

    def validation_step(self, batch, _):
        self._eval_step(batch, "val")

    def test_step(self, batch, _):
        self._eval_step(batch, "test")

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, nesterov=True,
                              weight_decay=self.weight_decay)
        total = max(1, self.trainer.estimated_stepping_batches)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class SequenceTask(pl.LightningModule):
    """Classification (accuracy), tagging (entity-level F1), language
    modelling (perplexity) or forecasting (mean squared error) with Adam and a
    cosine schedule."""

    def __init__(self, net: nn.Module, kind: str, lr: float = 3e-3, labels: list[str] | None = None,
                 num_classes: int | None = None):
        super().__init__()
        self.net, self.kind, self.lr, self.labels = net, kind, lr, labels or []
        if kind == "classify":
            self.accuracy = _accuracy(num_classes or _num_outputs(net))
        if kind == "forecast":
            self.mse = nn.ModuleDict({p: MeanSquaredError() for p in ("val", "test")})
            self.mae = nn.ModuleDict({p: MeanAbsoluteError() for p in ("val", "test")})
        self._gold: list[list[str]] = []
        self._pred: list[list[str]] = []

    def forward(self, x, lengths=None):
        return self.net(x, lengths) if self.kind == "classify" else self.net(x)

    def _loss(self, batch):
        x, lengths, y = batch
        logits = self(x, lengths)
        if self.kind == "classify":
            return logits, F.cross_entropy(logits, y)
        if self.kind == "forecast":
            return logits, F.mse_loss(logits, y)
        return logits, F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100)

    def training_step(self, batch, _):
        _, loss = self._loss(batch)
        if not torch.isfinite(loss):
            raise FloatingPointError("training loss is not finite")
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch[0]))
        return loss

    def _eval(self, batch, prefix: str):
        x, lengths, y = batch
        logits, loss = self._loss(batch)
        n = len(x)
        self.log(f"{prefix}_loss", loss, on_epoch=True, batch_size=n)
        if self.kind == "classify":
            self.accuracy[prefix](logits, y)
            self.log(f"{prefix}_acc", self.accuracy[prefix], on_epoch=True, prog_bar=True, batch_size=n)
        elif self.kind == "forecast":
            self.mse[prefix](logits, y)
            self.mae[prefix](logits, y)
            self.log(f"{prefix}_mse", self.mse[prefix], on_epoch=True, prog_bar=True, batch_size=n)
            self.log(f"{prefix}_mae", self.mae[prefix], on_epoch=True, batch_size=n)
        elif self.kind == "lm":
            self.log(f"{prefix}_ppl", torch.exp(loss), on_epoch=True, prog_bar=True, batch_size=n)
        else:
            pred = logits.argmax(-1)
            for i in range(n):
                L = int(lengths[i])
                self._gold.append([self.labels[t] for t in y[i, :L].tolist()])
                self._pred.append([self.labels[t] for t in pred[i, :L].tolist()])

    def _f1(self, prefix: str):
        if self.kind == "tag" and self._gold:
            from genelang.runtime.tasks.text import entity_f1
            self.log(f"{prefix}_f1", entity_f1(self._gold, self._pred), prog_bar=True)
        self._gold, self._pred = [], []

    def validation_step(self, batch, _):
        self._eval(batch, "val")

    def on_validation_epoch_end(self):
        self._f1("val")

    def test_step(self, batch, _):
        self._eval(batch, "test")

    def on_test_epoch_end(self):
        self._f1("test")

    def configure_optimizers(self):
        opt = torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=self.lr)
        total = max(1, self.trainer.estimated_stepping_batches)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
