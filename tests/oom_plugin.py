"""A plugin estimator that runs out of GPU memory once per run: the first
candidate to claim the marker file in `fitness.options.marker` fails."""
import os
from pathlib import Path

import torch

from genelang.evolve.estimators import register_estimator


@register_estimator("oom-once", builds_model=False)
def oom_once(c) -> float:
    """Raise CUDA's out-of-memory error for one candidate; score the rest by their seed."""
    try:
        os.close(os.open(Path(c.fitness.options["marker"]) / "oom-marker", os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return (c.seed % 1000) / 1000
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
