"""Equal-parameter comparisons of sequence models (bench_lm_cells.py,
bench_transformer_search.py): a model's parameter count under a genome and
configs, and the size setting whose count comes closest to a budget."""
from __future__ import annotations

from typing import Callable

from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.models import make_model

# the sequence model's cell or block stack is `net.rnn` (embedding, head and output sit outside it)
LAYERS = "rnn."


def n_params(genome, task: TaskConfig, model: ModelConfig, layers_only: bool = False) -> int:
    """The model's parameters; `layers_only`: its recurrent cell's or transformer
    blocks' alone (the rest is the embedding/output matrices and the output bias)."""
    net = make_model(genome, task, model)
    return sum(p.numel() for n, p in net.named_parameters() if not layers_only or n.startswith(LAYERS))


def closest(count: Callable[[int], int], target: int, lo: int, hi: int) -> int:
    """The size in [lo, hi] whose `count` (growing with the size) is closest to `target`."""
    while hi - lo > 1:      # smallest size at or above the target, by bisection
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    return min((lo, hi), key=lambda s: abs(count(s) - target))
