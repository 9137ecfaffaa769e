"""Scoring one candidate: `evaluate(request) -> EvalResult`, a top-level
function of picklable data, so process pools and Ray can ship it. It never
raises: a candidate's crash is that candidate's failure, with its reason.

Which estimator scores it is a registry entry (`evolve/estimators`)."""
from __future__ import annotations

import contextlib
import io
import math
import time
import traceback

import torch

from genelang.evolve.estimators import Candidate, get_estimator
from genelang.compiler.registry import get_space
from genelang.evolve.execution.evaluation import EvalRequest, EvalResult, worker_name
from genelang.evolve.run.reproduce import THREADS
from genelang.compiler.template import Template
from genelang.plugins import load_plugins
from genelang.runtime.devices import free_gpu_memory


def evaluate(request: EvalRequest) -> EvalResult:
    t0 = time.perf_counter()
    if request.context.threads:
        torch.set_num_threads(request.context.threads)
    noise = io.StringIO()   # torch.fx prints a failing module's code to stderr; keep it with the result
    try:
        with contextlib.redirect_stderr(noise):
            result = score(request)
        if result.status == "ok" and (result.fitness is None or math.isnan(result.fitness)):
            result = EvalResult.failed("fitness is NaN", metrics=result.metrics)
    except Exception as err:   # a candidate's crash must not stop the search
        result = EvalResult.failed(_reason(err), traceback=(noise.getvalue() + traceback.format_exc(limit=4))[-2000:])
    if result.reason == OUT_OF_MEMORY:
        # out of the except block the failed candidate's frames are unreachable:
        # collect them and give the cached blocks back, so the worker goes on
        free_gpu_memory()
    result.seconds = time.perf_counter() - t0
    result.worker = worker_name(request.context.device)
    # a retraining must use the same count to reproduce the fitness (evolve/run/reproduce.py)
    result.metrics[THREADS] = torch.get_num_threads()
    return result


OUT_OF_MEMORY = "out of GPU memory"


def _reason(err: BaseException) -> str:
    if isinstance(err, torch.OutOfMemoryError):
        return OUT_OF_MEMORY
    return f"{type(err).__name__}: {err}".strip()


def candidate(request: EvalRequest, build: bool = True) -> Candidate:
    """The candidate an estimator sees: the genome, its configs, its cost where
    the space prices genomes (`price`) and, when `build` and the estimator
    needs one, its freshly built network (`build_net`)."""
    from genelang.compiler import load_text
    spec = request.spec
    load_plugins(spec.plugins)           # a fresh worker process knows only what it imports
    genome = load_text(request.genome, "<candidate>").genomes[0]
    task, model = spec.configs()
    c = Candidate(genome, spec, request.seed, request.context, task, model)
    price(c)
    if build:
        build_net(c)
    return c


def price(c: Candidate) -> None:
    """`params` and `macs` from the space's cost table (built once per spec and
    process), without building the network; spaces without one are counted on
    the built network instead."""
    space = get_space(c.genome.space)
    if space.cost_model:
        max_operands = Template.from_spec(c.spec.space).max_operands()
        table = space.builder("cost_model")(c.task, c.model, max_operands)
        cost = table.cost(c.genome)
        c.metrics.update(params=cost.params, macs=cost.macs)
    if wants_latency(c.fitness):
        from genelang.runtime.latency.predict import predictor
        ms = predictor(c.fitness.latency, c.genome.space, c.task, c.model).latency(c.genome)
        c.metrics["latency"] = round(ms, 4)


def wants_latency(fitness) -> bool:
    """Whether the spec ranks or limits candidates by latency (`-latency`, `max_latency_ms`)."""
    return fitness.max_latency_ms is not None or any(o.lstrip("-") == "latency" for o in fitness.objectives)


def build_net(c: Candidate) -> None:
    from genelang.runtime.models import make_model
    if get_estimator(c.fitness.estimator).builds_model:
        torch.manual_seed(c.seed)
        c.net = make_model(c.genome, c.task, c.model)
        c.metrics.setdefault("params", sum(p.numel() for p in c.net.parameters()))


def limits(fitness) -> tuple[tuple[str, float | None, str, str], ...]:
    """(cost, the spec's limit on it, its unit, the limit's key) for each cost a spec may limit."""
    return (("params", fitness.max_params, "parameters", "max_params"),
            ("macs", fitness.max_macs, "multiply-adds", "max_macs"),
            ("latency", fitness.max_latency_ms, "ms", "max_latency_ms"))


def infeasible(c: Candidate) -> str | None:
    """Why the candidate breaks a `max_<cost>` limit of the spec, if it does."""
    for key, limit, unit, name in limits(c.fitness):
        if limit and c.metrics.get(key, 0) > limit:
            return f"{c.metrics[key]} {unit} > {name} {limit}"
    return None


UNPRICED = "cannot be checked"


def unpriced(c: Candidate) -> str | None:
    """Why a `max_<cost>` limit cannot be checked: nothing priced the candidate
    (no cost model, no network built, and the estimator reported no such cost)."""
    for key, limit, _, name in limits(c.fitness):
        if limit and c.metrics.get(key) is None:
            return (f"{name} {UNPRICED}: the {c.genome.space} space has no cost model and estimator "
                    f"{c.fitness.estimator!r} builds no network and reports no {key}")
    return None


def score(request: EvalRequest) -> EvalResult:
    """`evaluate` without its guards (the caller catches what it raises)."""
    c = candidate(request, build=False)
    # priced genomes are refused before anything is built; the others once built
    reason = infeasible(c)
    if reason is None:
        build_net(c)
        reason = infeasible(c)
    if reason:
        return EvalResult("infeasible", None, reason, metrics=c.metrics)
    value = float(get_estimator(c.fitness.estimator).fn(c))
    c.metrics["score"] = value
    if c.net is None:
        # an estimator that builds nothing (a table lookup) may know the costs
        # only once it has run: the limits hold on what it reported
        if reason := infeasible(c):
            return EvalResult("infeasible", None, reason, metrics=c.metrics)
        if reason := unpriced(c):
            return EvalResult.failed(reason, metrics=c.metrics)
    return EvalResult("ok", value, metrics=c.metrics)
