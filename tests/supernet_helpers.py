"""Supernet training for the resume test, importable by a subprocess."""
import sys
import time

import torch

from genelang.runtime.config import TaskConfig
from genelang.runtime.supernet import StrictFair, Supernet, SupernetTraining, train_supernet

TASK = TaskConfig("digits", subset=128, batch_size=16)
TRAINING = SupernetTraining(steps=6, lr=0.1, batch_size=16, checkpoint_every=2, seed=5)


def train(shape, out_dir, progress=None) -> Supernet:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = Supernet(shape)
    train_supernet(net, StrictFair(shape, swaps_per_path=5), TASK, TRAINING, out_dir, progress=progress)
    return net


def _slowly(step, total, loss):
    time.sleep(0.3)     # the parent kills us between checkpoints


if __name__ == "__main__":
    from tests.test_supernet import tiny
    train(tiny()[2], sys.argv[1], _slowly)
