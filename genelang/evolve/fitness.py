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
from genelang.evolve.evaluation import EvalRequest, EvalResult, worker_name
from genelang.plugins import load_plugins
from genelang.runtime.devices import free_gpu_memory


def evaluate(request: EvalRequest) -> EvalResult:
    t0 = time.perf_counter()
    if request.context.threads:
        torch.set_num_threads(request.context.threads)
    noise = io.StringIO()   # torch.fx prints a failing module's code to stderr; keep it with the result
    try:
        with contextlib.redirect_stderr(noise):
            result = _evaluate(request)
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
    return result


OUT_OF_MEMORY = "out of GPU memory"


def _reason(err: BaseException) -> str:
    if isinstance(err, torch.OutOfMemoryError):
        return OUT_OF_MEMORY
    return f"{type(err).__name__}: {err}".strip()


def candidate(request: EvalRequest) -> Candidate:
    """The candidate an estimator sees: the genome, its configs and (when the
    estimator needs one) its freshly built network, seeded by the request."""
    from genelang.compiler import load_text
    from genelang.runtime.train import make_model
    spec = request.spec
    load_plugins(spec.plugins)           # a fresh worker process knows only what it imports
    genome = load_text(request.genome, "<candidate>").genomes[0]
    task, model = spec.configs()
    c = Candidate(genome, spec, request.seed, request.context, task, model)
    if get_estimator(spec.fitness.estimator).builds_model:
        torch.manual_seed(request.seed)
        c.net = make_model(genome, task, model)
        c.metrics["params"] = sum(p.numel() for p in c.net.parameters())
    return c


def _evaluate(request: EvalRequest) -> EvalResult:
    c = candidate(request)
    limit = c.fitness.max_params
    if limit and c.metrics.get("params", 0) > limit:
        return EvalResult("infeasible", None, f"{c.metrics['params']} parameters > max_params {limit}",
                          metrics=c.metrics)
    score = float(get_estimator(c.fitness.estimator).fn(c))
    c.metrics["score"] = score
    return EvalResult("ok", score, metrics=c.metrics)
