"""Differentiable search as strategies: `darts` (first or second order),
`gdas` and `pc-darts`, over any space with a relaxation
(`genelang/differentiable/`). Each runs its own search (`SearchesItself`)
and ends in the derived genome(s), which the spec's estimator then scores
like any candidate.

    strategy:
      name: darts
      options: {order: 2, epochs: 50, C: 16, N: 5, hardware: {cost: params, target: 8e5, weight: 1}}
"""
from __future__ import annotations

from abc import abstractmethod

from dataclasses import fields
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from genelang.evolve.strategies.self_search import SearchesItself, SelfSearchRun
from genelang.evolve.spec.rules import option_errors
from genelang.evolve.strategies.base import Member, Strategy, register_strategy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HardwareOptions(_Strict):
    # the derived network's, from the space's cost model; latency (ms) from `fitness.latency`'s table
    cost: Literal["params", "macs", "latency"] = "params"
    target: float = Field(gt=0)
    weight: float = Field(1.0, ge=0)
    form: Literal["hinge", "linear", "abs"] = "hinge"


class RelaxedOptions(_Strict):
    epochs: int = Field(50, ge=1)
    batch_size: int | None = Field(None, ge=1)   # default: task.batch_size
    C: int = Field(16, ge=1)                     # the mixed network's width ...
    N: int = Field(5, ge=1)                      # ... and cells per stage (NB201's search: 16, 5)
    warmup_epochs: int = Field(0, ge=0)          # weight steps only, before α moves
    w_lr: float = Field(0.025, gt=0)
    w_lr_min: float = Field(0.001, ge=0)
    w_momentum: float = Field(0.9, ge=0, lt=1)
    w_weight_decay: float = Field(3e-4, ge=0)
    grad_clip: float = Field(5.0, gt=0)
    arch_lr: float = Field(3e-4, gt=0)
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = Field(1e-3, ge=0)
    beta_decay: float = Field(0.0, ge=0)         # β-DARTS's λ against collapse (0: off)
    hardware: dict | None = None                 # HardwareOptions, checked at its own spec path
    derive: int = Field(1, ge=1)                 # genomes kept: the most probable under the final α

    @field_validator("warmup_epochs")
    @classmethod
    def _warmup(cls, v, info):
        epochs = info.data.get("epochs")
        if epochs is not None and v >= epochs:
            raise ValueError(f"must be below epochs ({epochs}): α would never move")
        return v


class DartsOptions(RelaxedOptions):
    order: Literal[1, 2] = 1


class GdasOptions(RelaxedOptions):
    tau_max: float = Field(10.0, gt=0)
    tau_min: float = Field(0.1, gt=0)

    @field_validator("tau_min")
    @classmethod
    def _taus(cls, v, info):
        top = info.data.get("tau_max")
        if top is not None and v > top:
            raise ValueError(f"must not exceed tau_max ({top})")
        return v


class PCDartsOptions(RelaxedOptions):
    k: int = Field(4, ge=1)                      # the ops see 1/k of the channels
    edge_normalisation: bool = True


PREFIX = "strategy.options"


def _checks(model: type[RelaxedOptions]):
    def check(spec) -> list[tuple[str, str, str]]:
        from genelang.differentiable import get_relaxation, relaxed_spaces
        options = dict(spec.strategy.options)
        out = option_errors(model, {k: v for k, v in options.items() if k != "hardware"}, PREFIX)
        hw = options.get("hardware")
        if hw is not None:
            out += (option_errors(HardwareOptions, hw, f"{PREFIX}.hardware") if isinstance(hw, dict) else
                    [(f"{PREFIX}.hardware", "a mapping: {cost: params|macs|latency, target: N, weight: W}", "")])
        if spec.space.space not in relaxed_spaces():
            out.append(("space.space", f"strategy {spec.strategy.name!r} needs a space with a fixed layout "
                        f"and a relaxation; the {spec.space.space} space has none",
                        f"spaces with one: {', '.join(relaxed_spaces())}"))
            return out
        relaxation = get_relaxation(spec.space.space)
        if isinstance(hw, dict) and hw.get("cost") == "latency":
            out += _latency_checks(spec, relaxation)
        if model is PCDartsOptions:
            out += _partial_checks(spec, options, relaxation)
        return out
    return check


def _partial_checks(spec, options: dict, relaxation) -> list[tuple[str, str, str]]:
    if relaxation.partial_channels_refused:
        return [("strategy.name", f"pc-darts on the {spec.space.space} space: {relaxation.partial_channels_refused}",
                 "strategy: {name: gdas} or {name: darts}")]
    k, C = options.get("k", 4), options.get("C", 16)
    if isinstance(k, int) and isinstance(C, int) and k > 0 and C % k:
        return [(f"{PREFIX}.k", f"must divide the width C ({C}): the ops see C/k channels", "")]
    return []


def _latency_checks(spec, relaxation) -> list[tuple[str, str, str]]:
    """A latency target needs per-(position, choice) table entries, and a table to read them from."""
    from pathlib import Path
    if not relaxation.has_latency_entries:
        return [(f"{PREFIX}.hardware.cost", f"latency: the {spec.space.space} space's latency is timed end to end, "
                 "per network, so it has no expectation under α", "cost: params or macs; or a chain space "
                 "(proxyless, fbnet, spos), whose latency table has an entry per layer and block")]
    cfg = spec.fitness.latency
    if not cfg.measure_missing and not Path(cfg.table).exists():
        return [("fitness.latency.table", f"latency: no table at {cfg.table} and measure_missing is false",
                 "build it first: genelang latency SPEC")]
    return []


class RelaxedStrategy(Strategy, SearchesItself):
    options_model: ClassVar[type[RelaxedOptions]]    # (checked with `hardware` apart: _checks)

    def __init__(self, spec, template):
        super().__init__(spec, template)
        self.spec = spec
        self.o = self.options_model.model_validate(self.s.options)

    @abstractmethod
    def method(self):
        """The relaxation's mixed-operation method (differentiable/methods.py)."""

    # never called: the search loop calls `search` for a strategy that searches itself
    def propose(self, pop, rng):
        return []

    def merge(self, pop, children, rng):
        return pop

    def schedule(self):
        from genelang.differentiable import Schedule
        values = self.o.model_dump() | {"seed": self.spec.run.seed, "order": getattr(self.o, "order", 1),
                                        "batch_size": self.o.batch_size or self.spec.task.batch_size}
        return Schedule(**{f.name: values[f.name] for f in fields(Schedule) if f.name in values})

    def search(self, run: SelfSearchRun) -> list[Member]:
        from genelang.differentiable import RelaxedSearch, get_relaxation
        from genelang.differentiable.data import bilevel_data
        from genelang.evolve.execution.placement import placement
        from genelang.runtime.devices import autocast, torch_threads
        spec = self.spec
        device = placement(spec.execution).devices[0]
        from genelang.differentiable.hardware import LATENCY, HardwareTarget
        hw = (HardwareTarget(**HardwareOptions.model_validate(self.o.hardware).model_dump())
              if self.o.hardware is not None else None)
        task, model = spec.configs()
        relaxation, data = get_relaxation(spec.space.space, model), bilevel_data(task)
        latency = self._latency(relaxation, data) if hw is not None and hw.cost == LATENCY else None
        with torch_threads(spec.execution.threads):
            searched = RelaxedSearch(
                relaxation, self.method(), self.schedule(), data, run.run_dir / "differentiable", device=device,
                autocast=lambda: autocast(spec.fitness.precision, device),
                hardware=hw, latency=latency, derive=self.o.derive,
                progress=getattr(run.progress, "supernet_step", None)).run()
        return [Member.of(self.t.symbols(g)) for g in searched.genomes]

    def _latency(self, relaxation, data):
        """The derived network's latency per (position, choice), from `fitness.latency`'s table."""
        from genelang.differentiable.hardware import latency_prices
        from genelang.errors import GenelangError
        from genelang.runtime.latency.predict import predictor
        task, model = self.spec.configs()
        try:
            return latency_prices(relaxation, predictor(self.spec.fitness.latency, self.spec.space.space, task, model),
                                  num_classes=data.num_classes, input_shape=data.input_shape)
        except (LookupError, ValueError) as e:   # MissingLatency, no CUDA device, an unreadable table
            raise GenelangError.at("latency", str(e), "fitness.latency",
                                   hint="genelang latency SPEC measures the table") from None


@register_strategy("darts", checks=_checks(DartsOptions))
class Darts(RelaxedStrategy):
    """DARTS (Liu et al. 2019): softmax-weighted mixed ops; `order` 1 or 2."""
    options_model = DartsOptions

    def method(self):
        from genelang.differentiable import Softmax
        return Softmax()


@register_strategy("gdas", checks=_checks(GdasOptions))
class Gdas(RelaxedStrategy):
    """GDAS (Dong & Yang 2019): one op per position, hard Gumbel-softmax, τ annealed."""
    options_model = GdasOptions

    def method(self):
        from genelang.differentiable import HardGumbel
        return HardGumbel(tau_max=self.o.tau_max, tau_min=self.o.tau_min)


@register_strategy("pc-darts", checks=_checks(PCDartsOptions))
class PCDarts(RelaxedStrategy):
    """PC-DARTS (Xu et al. 2020): a 1/k channel sample, edge normalisation."""
    options_model = PCDartsOptions

    def method(self):
        from genelang.differentiable import PartialChannels
        return PartialChannels(partial=self.o.k, edge_normalisation=self.o.edge_normalisation)
