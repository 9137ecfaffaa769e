"""One-shot search: a weight-sharing supernet over a conv genome space
(docs/supernet.md). `Supernet(shape).path(genome)` is a genome's network over
the shared blocks; `train_supernet` trains it by sampling paths;
`recalibrate_bn` resets a path's BatchNorm statistics before scoring it."""
from genelang.runtime.supernet.net import Supernet
from genelang.runtime.supernet.shape import GeneShape, SupernetShape

__all__ = ["GeneShape", "Supernet", "SupernetShape"]
