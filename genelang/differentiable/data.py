"""The two halves of a task's training split (DARTS: the weights learn on one,
α on the other; the task's validation split stays untouched for scoring)."""
from __future__ import annotations

import torch

from genelang.differentiable.loop import BilevelData
from genelang.runtime.config import TaskConfig


def bilevel_data(task: TaskConfig) -> BilevelData:
    """The training split, shuffled by the task's split seed and cut in two."""
    from genelang.runtime.task_data import augmentation, task_data
    data, s = task_data(task)
    x, y = s.train
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(task.split_seed))
    a, b = perm[: len(y) // 2], perm[len(y) // 2:]
    aug = augmentation(task, data)
    return BilevelData((x[a], y[a]), (x[b], y[b]), data.num_classes, aug if aug else None)
