"""Zero-cost estimators (`runtime/zero_cost.py`; naswot and synflow are in
`builtin.py`), the size baselines every proxy must be read beside, and
`ensemble`, a rank vote of named estimators.

- jacob_cov, snip, grad_norm, meco: one minibatch of the task's training set
  (the candidate's seed draws it, as naswot and synflow); zico takes
  `fitness.options.batches` (default 2, ZiCo's) consecutive minibatches.
- param-count, macs: the parameter count and the multiply-adds of one image,
  larger ranks higher (the zero-cost literature's #params and FLOPs baselines;
  `params` is the count negated, a cost).
- ensemble: `fitness.options.members` (default Abdelfattah et al.'s vote:
  synflow, jacob_cov, snip). A candidate's fitness is the mean over members of
  where its score stands among the member's scores of a fixed reference sample
  of the space (`fitness.options.reference` random genomes, drawn from the run
  seed): its mean percentile rank. Against a fixed sample rather than its own
  generation, so that a fitness means the same in every generation (elitism
  and the best-so-far compare across them) and does not depend on which
  worker scored what first. The reference is scored once per worker process.
  For a set of candidates scored together, `runtime.zero_cost.rank_vote`
  gives each its mean rank.
"""
from __future__ import annotations

import random
from dataclasses import replace

import torch
from pydantic import BaseModel, ConfigDict, Field

from genelang.evolve.estimators import Candidate, Estimator, estimators, reads_images, register_estimator
from genelang.evolve.estimators.builtin import _on_device
from genelang.evolve.spec.rules import option_errors
from genelang.runtime import zero_cost
from genelang.runtime.cache import Recent


class ZiCoOptions(BaseModel):
    """`fitness.options` of zico."""
    model_config = ConfigDict(extra="forbid")
    batches: int = Field(2, ge=2)        # minibatches (ZiCo's statistic needs at least two)


class EnsembleOptions(ZiCoOptions):
    """`fitness.options` of ensemble (`batches` is for a zico member)."""
    members: list[str] = Field(default_factory=lambda: list(ABDELFATTAH_VOTE), min_length=2)
    reference: int = Field(32, ge=2)     # random genomes of the space every member ranks against


ABDELFATTAH_VOTE = ("synflow", "jacob_cov", "snip")


def _options(c: Candidate, model: type[BaseModel]) -> BaseModel:
    """The options `model` knows, from the spec's `fitness.options` (an ensemble's
    spec carries its own keys beside its members')."""
    options = c.spec.fitness.options
    return model.model_validate({k: v for k, v in options.items() if k in model.model_fields})


def _zico_checks(spec) -> list[tuple[str, str, str]]:
    return option_errors(ZiCoOptions, spec.fitness.options, "fitness.options")


def _no_options(spec) -> list[tuple[str, str, str]]:
    # an option a proxy would ignore is a typo or a misunderstanding: say so where it is written
    return [(f"fitness.options.{k}", "unknown option", f"{spec.fitness.estimator} takes no options")
            for k in spec.fitness.options]


def _batches(c: Candidate, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """`n` consecutive minibatches of the candidate's seeded draw of the training
    set; the first is `sample_batch`'s, the one the one-batch proxies see."""
    from genelang.runtime.task_data import task_data
    _, s = task_data(c.task)
    bs, device = c.task.batch_size, c.context.device
    order = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(c.seed))
    return [(s.train[0][order[i * bs:(i + 1) * bs]].to(device), s.train[-1][order[i * bs:(i + 1) * bs]].to(device))
            for i in range(n)]


def _register_one_batch(name: str, fn, doc: str) -> None:
    def score(c: Candidate) -> float:
        return float(fn(*_on_device(c)))
    score.__doc__ = doc          # its first line is the registry's `doc`
    register_estimator(name, fits_space=reads_images, checks=_no_options)(score)


for _entry in [
    ("jacob_cov", zero_cost.jacob_cov,
     "Correlation of the input Jacobians over one minibatch (Mellor et al., as zero-cost-nas scores it)."),
    ("snip", zero_cost.snip, "Σ|θ ⊙ ∂L/∂θ| over convs and linears on one minibatch (Lee et al. 2019)."),
    ("grad_norm", zero_cost.grad_norm, "Σ of each conv's and linear's loss-gradient norm on one minibatch."),
    ("meco", zero_cost.meco,
     "Σ of each layer's minimum channel-correlation eigenvalue on one image (Jiang et al. 2023)."),
]:
    _register_one_batch(*_entry)


@register_estimator("zico", fits_space=reads_images, checks=_zico_checks)
def zico(c: Candidate) -> float:
    """Σ over layers of log Σ mean|g|/std(g) over minibatches (Li et al. ICLR 2023)."""
    return zero_cost.zico(c.net.to(c.context.device), _batches(c, _options(c, ZiCoOptions).batches))


@register_estimator("param-count", checks=_no_options)
def param_count(c: Candidate) -> float:
    """The parameter count, larger ranks higher: the baseline to read every proxy beside."""
    return float(c.metrics["params"])


@register_estimator("macs", fits_space=reads_images, checks=_no_options)
def macs(c: Candidate) -> float:
    """Multiply-adds of one image, larger ranks higher (the literature's FLOPs baseline)."""
    if "macs" not in c.metrics:      # spaces without a cost table: counted on the built network
        net, x, _ = _on_device(c)
        c.metrics["macs"] = zero_cost.macs(net, x)
    return float(c.metrics["macs"])


# --- ensemble -------------------------------------------------------------------------------

def _member_problem(name: str, known: dict[str, Estimator], space: str) -> tuple[str, str] | None:
    """(message, hint) when `name` cannot be a member of an ensemble over `space`."""
    from genelang.evolve.spec.rules import _choices
    if name not in known:
        return f"unknown estimator {name!r}", _choices(name, known)
    est = known[name]
    if name == "ensemble":
        return "an ensemble cannot be its own member", "name the estimators it votes over"
    if not est.fits(space):
        return f"{name!r} cannot score genomes of the {space} space", ""
    if est.prepare is not None or est.trains or not est.builds_model:
        # the reference sample is scored inside a worker: a member must score a genome alone,
        # cheaply, from its network (not a trained supernet, a training run or a table)
        return f"{name!r} cannot vote: a member scores a freshly built network on its own", \
            "zero-cost members: " + ", ".join(sorted(n for n, e in known.items() if _votes(e, space)))
    return None


def _votes(est: Estimator, space: str) -> bool:
    return est.name != "ensemble" and est.fits(space) and est.builds_model and not est.trains \
        and est.prepare is None


def _ensemble_checks(spec) -> list[tuple[str, str, str]]:
    out = option_errors(EnsembleOptions, spec.fitness.options, "fitness.options")
    members = spec.fitness.options.get("members")
    if out or members is None:
        return out
    known = estimators()
    seen: set[str] = set()
    for i, name in enumerate(members):
        problem = _member_problem(name, known, spec.space.space)
        if problem is None and name in seen:
            problem = f"{name!r} is named twice (each member has one vote)", ""
        if problem is not None:
            out.append((f"fitness.options.members[{i}]", *problem))
        seen.add(name)
    return out


_REFERENCE = Recent(maxsize=1)      # (members, sample, spec's space/task/model/seed) -> {member: scores}


def _member_score(c: Candidate, name: str) -> float:
    """`name`'s score of the candidate, on a network built for it alone (a member
    may change the one it is given: synflow makes weights positive)."""
    from genelang.runtime.models import make_model
    est = estimators()[name]
    m = replace(c, metrics=dict(c.metrics), net=None)
    torch.manual_seed(c.seed)
    m.net = make_model(c.genome, c.task, c.model)
    m.metrics.setdefault("params", sum(p.numel() for p in m.net.parameters()))
    score = float(est.fn(m))
    for key in ("params", "macs"):
        if key in m.metrics:
            c.metrics.setdefault(key, m.metrics[key])
    return score


def _reference(c: Candidate, o: EnsembleOptions) -> dict[str, list[float]]:
    from genelang.compiler.dag import phenotype_hash
    from genelang.evolve.execution.fitness import price
    from genelang.evolve.search import candidate_seed
    from genelang.compiler.template import Template
    spec = c.spec

    def make() -> dict[str, list[float]]:
        template, rng = Template.from_spec(spec.space), random.Random(f"{spec.run.seed}:ensemble")
        scores: dict[str, list[float]] = {m: [] for m in o.members}
        for _ in range(o.reference):
            genome = template.genome(template.random(rng))
            # the seed the search would give this genome, so a reference genome met as a
            # candidate scores exactly as its reference entry
            r = Candidate(genome, spec, candidate_seed(spec.run.seed, phenotype_hash(genome)), c.context,
                          c.task, c.model)
            price(r)
            for m in o.members:
                scores[m].append(_member_score(r, m))
        return scores

    key = (tuple(o.members), o.reference, o.batches, spec.space.model_dump_json(), spec.task.model_dump_json(),
           spec.model.model_dump_json(), spec.run.seed, c.context.device)
    return _REFERENCE.get_or_make(key, make)


# builds_model: the search builds the candidate's network first, so its parameter count is known
# and `max_params` applies before any member runs (each member then scores a fresh copy)
@register_estimator("ensemble", checks=_ensemble_checks)
def ensemble(c: Candidate) -> float:
    """Mean percentile rank of the members' scores against a reference sample of the space (a rank vote)."""
    o = _options(c, EnsembleOptions)
    reference = _reference(c, o)
    ranks = {}
    for m in o.members:
        s = _member_score(c, m)
        c.metrics[f"{m}_score"] = s
        ranks[m] = zero_cost.percentile(s, reference[m])
    return sum(ranks.values()) / len(ranks)
