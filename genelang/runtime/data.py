"""In-memory tensor data: seeded splits and batch loaders without per-sample
collation (a DataLoader over whole-batch index lists, no worker processes),
and, for data already on an accelerator, batches sliced where they live."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler


class TensorBatches(Dataset):
    """Indexed by a list of indices; returns whole batches by fancy indexing."""

    def __init__(self, *tensors: torch.Tensor, transform=None):
        assert all(len(t) == len(tensors[0]) for t in tensors)
        self.tensors = tensors
        self.transform = transform

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, idx):
        idx = torch.as_tensor(idx)
        batch = tuple(t[idx] for t in self.tensors)
        return self.transform(batch) if self.transform else batch


def loader(dataset: TensorBatches, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    gen = torch.Generator().manual_seed(seed)
    sampler = RandomSampler(dataset, generator=gen) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(sampler, batch_size, drop_last=False),
                      batch_size=None)


class DeviceBatches:
    """Batches of tensors that already live on an accelerator: each epoch's
    order is drawn on the CPU (a seeded generator, as `loader`'s) and moved
    there once, and every batch is indexed on the device: no DataLoader, no
    host round trip per batch. `transform` (augmentation) runs on the device."""

    def __init__(self, tensors: tuple[torch.Tensor, ...], batch_size: int, shuffle: bool = False,
                 seed: int = 0, transform=None):
        self.tensors, self.batch_size, self.shuffle, self.transform = tensors, batch_size, shuffle, transform
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.tensors[0]) // self.batch_size)

    def __iter__(self):
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator).to(self.tensors[0].device) if self.shuffle else None
        for i in range(0, n, self.batch_size):
            idx = order[i:i + self.batch_size] if order is not None else slice(i, i + self.batch_size)
            batch = tuple(t[idx] for t in self.tensors)
            yield self.transform(batch) if self.transform else batch


@dataclass
class Split:
    train: tuple[torch.Tensor, ...]
    val: tuple[torch.Tensor, ...]


def split(tensors: tuple[torch.Tensor, ...], val: float | int, seed: int,
          subset: int | None = None) -> Split:
    """A seeded train/validation split; `subset` keeps that many training samples."""
    n = len(tensors[0])
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(val * n) if isinstance(val, float) else int(val)
    n_val = min(max(n_val, 1), n - 1)
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if subset is not None:
        train_idx = train_idx[:subset]
        val_idx = val_idx[: max(1, min(len(val_idx), subset // 4 if subset >= 4 else 1))]
    return Split(tuple(t[train_idx] for t in tensors), tuple(t[val_idx] for t in tensors))
