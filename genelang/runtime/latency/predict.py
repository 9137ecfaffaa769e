"""A candidate's latency: the sum of its entries in the table of this device,
each missing one measured now (and stored) or reported."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from statistics import median
from typing import Callable

from genelang.compiler.registry import get_space
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.device import device_key
from genelang.runtime.latency.entries import EndToEnd, LatencyModel
from genelang.runtime.latency.table import LatencyTable
from genelang.runtime.latency.timer import time_parts


class MissingLatency(LookupError):
    """An entry the table lacks, with `measure_missing: false`."""


@dataclass
class Predictor:
    cfg: LatencyConfig
    model: LatencyModel
    table: LatencyTable

    def missing(self, names: list[str]) -> list[str]:
        return [n for n in dict.fromkeys(names) if self.table.get(n) is None]

    def measure(self, names: list[str], genome=None, progress: Callable[[int], None] | None = None) -> dict[str, float]:
        """Time the entries the table lacks (in the genome's network, or in networks
        covering them), store them and return them; `progress(k)`: k more done."""
        wanted = set(self.missing(names))
        seen: dict[str, list[float]] = {}
        if not wanted:
            return {}
        for ctx in self.model.contexts(wanted, genome):
            times = time_parts(ctx.net, ctx.input_shape, ctx.parts, self.cfg)
            new = {name: times[name] for name in ctx.parts.values() if name in wanted}
            if ctx.whole in wanted:
                new[ctx.whole] = times[""]
            if progress:
                progress(len(new.keys() - seen.keys()))
            for name, ms in new.items():
                seen.setdefault(name, []).append(ms)
        # an entry timed in several networks: the median of its times
        done = {name: median(ms) for name, ms in seen.items()}
        self.table.add(done)
        return done

    def values(self, names: list[str], genome=None) -> dict[str, float]:
        """Each entry's milliseconds, the missing ones measured now (in the genome's
        network, or in networks covering them) or, with `measure_missing: false`,
        reported: never a silent zero."""
        missing = self.missing(names)
        if missing and not self.cfg.measure_missing:
            raise MissingLatency(f"{len(missing)} latency entries missing from {self.table.path} for "
                                 f"{self.table.key}, first {missing[0]!r}; `genelang latency SPEC` measures them")
        self.measure(missing, genome)
        unmeasured = self.missing(names)
        if unmeasured:   # a latency model whose networks did not cover what it named
            raise MissingLatency(f"latency entry {unmeasured[0]!r} could not be measured")
        return {n: self.table.get(n) for n in names}

    def latency(self, genome) -> float:
        names = self.model.entries(genome)
        ms = self.values(names, genome)
        return sum(ms[n] for n in names)


def latency_model(space_name: str, model, num_classes: int, input_shape: tuple[int, ...]) -> LatencyModel:
    """The space's own latency model (`Space.latency_model`), else end to end."""
    space = get_space(space_name)
    if space.latency_model:
        return space.builder("latency_model")(space.name, model, num_classes, input_shape)
    return EndToEnd(model, num_classes, input_shape)


@lru_cache(maxsize=8)
def _predictor(cfg: LatencyConfig, space: str, model, num_classes: int, input_shape: tuple[int, ...]) -> Predictor:
    model_ = latency_model(space, model, num_classes, input_shape)
    return Predictor(cfg, model_, LatencyTable(cfg.table, device_key(cfg)))


def predictor(cfg: LatencyConfig, space: str, task, model) -> Predictor:
    """The predictor for a space's genomes on `task`'s inputs (one per process and setting)."""
    from genelang.runtime.task_data import task_data
    data, _ = task_data(task)
    if not hasattr(data, "train_x"):
        raise ValueError(f"latency is measured on image tasks; task {task.name!r} gives sequences")
    return _predictor(cfg, space, model, data.num_classes, tuple(data.train_x.shape[1:]))
