"""Building or extending a latency table for a space (what `genelang latency`
runs): every entry the space's latency model names, the ones already in the
table for this device key reused, the others timed and stored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from genelang.errors import GenelangError
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.predict import Predictor, latency_model
from genelang.runtime.latency.table import open_table


@dataclass(frozen=True)
class TableReport:
    path: str
    key: str                    # this device's key
    entries: int                # what the space's latency model names for this task and model
    measured: int
    reused: int
    end_to_end: bool            # the space times whole networks, per candidate, during a search
    other_keys: tuple[str, ...]  # the file's tables for other devices, threads or batches (never read)


def build_table(cfg: LatencyConfig, space: str, task, model,
                progress: Callable[[int, int], None] | None = None) -> TableReport:
    """Measure what the table lacks; `progress(done, total)` as entries are timed."""
    from genelang.runtime.task_data import task_data
    data, _ = task_data(task)
    if not hasattr(data, "train_x"):
        raise GenelangError.at("latency", f"latency is measured on image tasks; task {task.name!r} gives sequences",
                               "task.name")
    table = open_table(cfg)   # read fresh: another process may have extended the file
    others = tuple(k for k in table.keys() if k != str(table.key))
    p = Predictor(cfg, latency_model(space, model, data.num_classes, tuple(data.train_x.shape[1:])), table)
    names = p.model.all_entries()
    missing = p.missing(names)
    done = 0

    def step(k: int) -> None:
        nonlocal done
        done += k
        if progress:
            progress(done, len(missing))

    if progress:
        progress(0, len(missing))
    p.measure(missing, progress=step)
    return TableReport(str(p.table.path), str(p.table.key), len(names), len(missing), len(names) - len(missing),
                       not names, others)
