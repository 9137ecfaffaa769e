"""LightningModules: what a training step is for each task kind."""
from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn


class ImageClassifier(pl.LightningModule):
    """Cross-entropy (+ 0.4 × auxiliary head loss, as DARTS), SGD with Nesterov
    momentum and a cosine schedule; accuracy on validation and test."""

    def __init__(self, net: nn.Module, lr: float = 0.05, weight_decay: float = 3e-4,
                 epochs: int = 1, aux_weight: float = 0.4, channels_last: bool = True):
        super().__init__()
        self.net = net
        self.lr, self.weight_decay, self.epochs, self.aux_weight = lr, weight_decay, epochs, aux_weight
        self.channels_last = channels_last
        if channels_last:
            self.net.to(memory_format=torch.channels_last)

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
        self.log(f"{prefix}_acc", (logits.argmax(1) == y).float().mean(), on_epoch=True,
                 prog_bar=True, batch_size=len(y))

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
