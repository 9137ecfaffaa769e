"""Before a new search writes anything: build one candidate, load the task's
data and run one batch through it. A spec that cannot work (no data under
`task.root`, a task that does not fit the model) fails here, located, instead
of as every candidate's failure."""
from __future__ import annotations

import random

import torch

from genelang.errors import GenelangError, SpecError, relocate_argument
from genelang.evolve.estimators import get_estimator
from genelang.evolve.execution.evaluation import EvalContext, EvalRequest
from genelang.compiler.template import Template


def preflight(spec) -> None:
    from genelang.compiler.printer import format_genome
    from genelang.evolve.execution.fitness import candidate, unpriced
    template = Template.from_spec(spec.space, name="preflight")
    genome = format_genome(template.genome(template.random(random.Random(f"{spec.run.seed}:preflight"))))
    try:
        request = EvalRequest(genome, spec.run.seed, spec, EvalContext())
        c = candidate(request)
        if get_estimator(spec.fitness.estimator).builds_model:
            _one_batch(c)
        elif unpriced(c):     # nothing priced it before scoring: does the estimator report the cost?
            _priced(request)
    except GenelangError as err:   # an argument of the task (root=, dataset=) is a key of the spec's task section
        raise type(err)([relocate_argument(d, lambda a: f"task.{a}") for d in err.diagnostics]) from None
    except Exception as err:   # anything else is still this spec's problem, found before any compute
        raise SpecError.at("spec", f"preflight failed: a candidate of this spec cannot run on task "
                           f"{spec.task.name!r} ({type(err).__name__}: {str(err)[:300]})", "task",
                           hint="check task.name, task.root and the model section") from None


def _priced(request) -> None:
    """An estimator that builds nothing is cheap: score one candidate, so a
    `max_<cost>` limit that nothing prices refuses the spec here, instead of
    failing every candidate."""
    from genelang.evolve.execution.fitness import UNPRICED, limits, score
    result = score(request)
    if result.status == "failed" and UNPRICED in (result.reason or ""):
        name = next(n for k, limit, _, n in limits(request.spec.fitness) if limit and result.metrics.get(k) is None)
        raise SpecError.at("spec", result.reason, f"fitness.{name}",
                           hint="use an estimator that builds the network or reports the cost, "
                                "or a space with a cost model")


@torch.no_grad()
def _one_batch(c) -> None:
    from genelang.runtime.task_data import task_data
    data, s = task_data(c.task)
    x = s.train[0][: min(2, len(s.train[0]))]
    if len(x) == 0:
        raise SpecError.at("spec", "the training split is empty", "task.subset",
                           hint="raise task.subset or lower task.val")
    if not hasattr(data, "kind"):     # image tasks: a forward pass; sequence models take their own batches
        c.net.eval()(x)
