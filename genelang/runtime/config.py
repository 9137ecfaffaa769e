"""What to train on and what to build: the two configs every runtime entry
point (training, export, proxies) takes."""
from __future__ import annotations

from dataclasses import dataclass

from genelang.compiler.registry import DEFAULT_SKELETON


@dataclass(frozen=True)
class TaskConfig:
    name: str = "fashion-mnist"
    root: str | None = None
    subset: int | None = None        # training samples kept (None: all)
    val: float | int = 0.1           # validation fraction (float) or count (int) of the training set
    batch_size: int = 64
    split_seed: int = 0              # the same split for every genome and seed of a study
    vectors: str | None = None       # text tasks: word2vec/GloVe/fastText file (default: trained or bundled)
    dataset: str | None = None       # time-series tasks: which bundled set or series
    augment: bool | None = None      # image tasks: pad-crop + flip (None: the task's default, on for CIFAR/folders)
    cutout: int = 0                  # image tasks: cutout square side (0: off)
    skip_bad_images: bool = False    # image-folder: leave out (and count) files PIL cannot read, not refuse them


@dataclass(frozen=True)
class ModelConfig:
    skeleton: str = DEFAULT_SKELETON     # a space that does not build it takes its own (Space.resolve_skeleton)
    C: int = 16
    N: int = 1
    layers: int = 8
    auxiliary: bool = False
    drop_path: float = 0.0
    hidden: int = 64                 # sequence genomes: state width (rnn), model width (transformer)
    heads: int = 4                   # transformer genomes: attention heads (hidden must divide by it)
    ffn: int = 128                   # transformer genomes: the feed-forward's inner width
    rnn_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    freeze_embeddings: bool = True
    # None: channels_last when training on the CPU, where demo candidates train 1.6-1.8x faster, around
    # oneDNN's defects there (runtime/channels_last.py); True/False: always/never. Either way only where
    # channels_last.channels_last_safe allows it.
    channels_last: bool | None = None
    compile: str | None = None       # torch.compile backend ("inductor": ~1 min to compile; "eager": checks only)


# Training precision when none is asked for, by device kind: the one place a
# later release changes a default (e.g. bf16-mixed on CPUs with bf16 kernels).
DEFAULT_PRECISION = {"cpu": "32", "gpu": "32"}
