"""The estimator registry: how a candidate genome is scored.

An estimator is a function of a `Candidate` returning the number a search
maximises (it may add metrics to `candidate.metrics`). Register one with

    @register_estimator("my-proxy", fits_space=reads_images)
    def my_proxy(c: Candidate) -> float:
        return float(sum(p.numel() for p in c.net.parameters()))

from any module, and name it in a spec (`fitness.estimator: my-proxy`,
`plugins: [mypkg.module]`). `fits_space(space)` says which search spaces it
can score by what they are (their modality, the hooks they have; `spaces`
names them instead); `spec check` refuses a pair that does not fit.
`options`, a pydantic model, checks `fitness.options` at `spec check`. `builds_model`
False means the estimator needs no network (a table lookup, say): then
`c.net` is None and it reports `params` itself if it knows them. `prepare`,
when given, runs in the search's process before each generation's candidates
(resumed runs too): `prepare(state: RunState, progress, generation) -> EvalContext`
readies what they share (the supernet is trained there) and says where it is.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from genelang.compiler.registry import spaces
from genelang.evolve.execution.evaluation import EvalContext


@dataclass
class Candidate:
    genome: Any                      # compiler.ast.Genome
    spec: Any                        # evolve.spec.Spec
    seed: int
    context: EvalContext
    task: Any                        # runtime.config.TaskConfig
    model: Any                       # runtime.config.ModelConfig
    net: Any = None                  # the built network (None when the estimator builds none)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def fitness(self):
        """The spec's `fitness` section."""
        return self.spec.fitness


@dataclass(frozen=True)
class Estimator:
    name: str
    fn: Callable[[Candidate], float]
    spaces: frozenset[str] | None = None     # None: every space `fits_space` accepts
    builds_model: bool = True
    trains: bool = False                     # trains weights (so NASGEP inheritance applies)
    doc: str = ""
    # spec rules of its own: spec -> [(spec path, message, hint)] (its options, its data)
    checks: Callable[[Any], list[tuple[str, str, str]]] | None = None
    prepare: Callable[[Any, Any, int], EvalContext] | None = None
    # what it needs of a space (compiler.registry.Space): its modality, a hook (None: anything)
    fits_space: Callable[[Any], bool] | None = None
    options: Any = None                      # a pydantic model of `fitness.options`, checked by `spec check`

    def fits(self, space: str) -> bool:
        if self.spaces is not None:
            return space in self.spaces
        if self.fits_space is None:
            return True
        sp = spaces().get(space)
        return sp is not None and self.fits_space(sp)


def reads_images(space) -> bool:
    """For estimators that feed a minibatch of images to the network."""
    return space.modality == "image"


_ESTIMATORS: dict[str, Estimator] = {}
# the built-in estimators' modules, imported on first use of the registry
BUILTIN_MODULES = ("genelang.evolve.estimators.builtin", "genelang.evolve.estimators.tabular",
                   "genelang.evolve.estimators.supernet", "genelang.evolve.estimators.zero_cost")


def register_estimator(name: str, *, spaces: set[str] | None = None, fits_space: Callable[[Any], bool] | None = None,
                       builds_model: bool = True, trains: bool = False, checks: Callable | None = None,
                       prepare: Callable | None = None, options: Any = None, replace_existing: bool = False):
    """Decorator: register `fn(candidate) -> float` under `name`."""
    def deco(fn: Callable[[Candidate], float]) -> Callable[[Candidate], float]:
        if name in _ESTIMATORS and not replace_existing:
            raise ValueError(f"estimator {name!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()
        _ESTIMATORS[name] = Estimator(name, fn, frozenset(spaces) if spaces is not None else None,
                                      builds_model, trains, doc[0] if doc else "", checks, prepare,
                                      fits_space, options)
        return fn
    return deco


def _builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def estimators() -> dict[str, Estimator]:
    _builtins()
    return dict(_ESTIMATORS)


def get_estimator(name: str) -> Estimator:
    _builtins()
    return _ESTIMATORS[name]


def fitting(space: str) -> list[str]:
    """Names of the estimators that can score genomes of `space`."""
    return sorted(n for n, e in estimators().items() if e.fits(space))
