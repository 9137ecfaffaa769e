"""A task's data as training reads it: the seeded train/validation split,
the same split kept on an accelerator, one minibatch (for proxies), and the
training augmentation of an image task."""
from __future__ import annotations

from dataclasses import replace

import torch

from genelang.runtime.augment import Augment
from genelang.runtime.cache import Recent, data_cache
from genelang.runtime.config import TaskConfig
from genelang.runtime.data import Split, split


def load(task: TaskConfig):
    """The task's loaded data (cached per process)."""
    return data_cache.get(task.name, task.root, task.vectors, task.dataset, task.skip_bad_images)


def is_sequence(data) -> bool:
    """A text or time-series task's data (image tasks have no `kind`)."""
    return hasattr(data, "kind")


def task_data(task: TaskConfig):
    """(data, split): for image tasks a seeded train/val split of the training
    set; sequence tasks (text, time series) come with their own splits."""
    data = load(task)
    if is_sequence(data):
        train = data.train if task.subset is None else tuple(t[: task.subset] for t in data.train)
        return data, Split(train, data.val)
    s = split((data.train_x, data.train_y), task.val, task.split_seed, task.subset)
    return data, s


# an image task's split on an accelerator, moved once per process: a search's
# GPU worker trains every candidate from the same device-resident tensors
device_splits = Recent(maxsize=2)


def device_split(task: TaskConfig, device: str):
    """`task_data(task)`'s split with its tensors on `device`, cached by (task, device)."""
    key = (task.name, task.root, task.vectors, task.dataset, task.skip_bad_images, task.val, task.split_seed,
           task.subset, device)

    def move() -> Split:
        s = task_data(task)[1]
        return Split(tuple(t.to(device) for t in s.train), tuple(t.to(device) for t in s.val))
    return device_splits.get_or_make(key, move)


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
    """One seeded training minibatch of `task.batch_size` (what zero-cost proxies score on)."""
    _, s = task_data(task)
    idx = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(seed))
    idx = idx[: task.batch_size]
    return s.train[0][idx], s.train[-1][idx]
