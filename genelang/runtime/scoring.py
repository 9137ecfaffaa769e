"""Scoring a built image network on a task's validation or test split, without training."""
from __future__ import annotations

import torch
from torch import nn

from genelang.runtime.config import TaskConfig
from genelang.runtime.task_data import is_sequence, task_data


@torch.no_grad()
def evaluate(model: nn.Module, task: TaskConfig, split_name: str = "val") -> dict[str, float]:
    data, s = task_data(task)
    if is_sequence(data):
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
