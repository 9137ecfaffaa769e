"""One-shot search: a weight-sharing supernet over a conv genome space
(docs/supernet.md). `Supernet(shape).path(genome)` is a genome's network over
the shared blocks; `train_supernet` trains it by sampling paths;
`recalibrate_bn` resets a path's BatchNorm statistics before scoring it."""
from genelang.runtime.supernet.bn import recalibrate_bn
from genelang.runtime.supernet.net import Supernet
from genelang.runtime.supernet.sampling import SAMPLERS, PathSampler, StrictFair, Uniform
from genelang.runtime.supernet.shape import SearchShape, SupernetShape
from genelang.runtime.supernet.train import SupernetTrained, SupernetTraining, load_checkpoint, train_supernet

__all__ = ["PathSampler", "SAMPLERS", "SearchShape", "StrictFair", "Supernet", "SupernetShape", "SupernetTrained",
           "SupernetTraining", "Uniform", "load_checkpoint", "recalibrate_bn", "train_supernet"]
