"""One-shot search (`fitness.estimator: supernet`, docs/supernet.md): the
spec's supernet as its space builds it (`Space.supernet`), and the step before each
generation that trains (or resumes, or finds done) the supernet in
RUN_DIR/supernet/ up to where that generation needs it: `supernet.steps`
before generation 0, then `supernet.steps_per_generation` more before each
later one (ENAS's alternation), on paths the strategy samples when it is a
sampler itself (`strategy: controller`, a `SamplesPaths`).

The estimator's options (`fitness.options`, `SupernetOptions`) add two
recipes: `ensemble: k` keeps the model of the last k checkpoints, which a
candidate's score averages; `few_shot` then splits the trained supernet at
one free position into one sub-supernet per symbol there (Few-shot NAS),
each fine-tuned from the whole supernet's weights on its part of the space
in RUN_DIR/supernet/split-{symbol}/, and a candidate is scored by its part's."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field

from genelang.evolve.execution.evaluation import EvalContext, RunState, SupernetRef
from genelang.evolve.execution.placement import placement
from genelang.compiler.template import Template
from torch import nn

from genelang.compiler.registry import get_space
from genelang.runtime.devices import torch_threads
from genelang.runtime.supernet import SAMPLERS, SupernetTraining, train_supernet
from genelang.runtime.supernet_curve import log_step


class FewShot(BaseModel):
    """`fitness.options.few_shot`: where the space is split, and how long each part trains."""
    model_config = ConfigDict(extra="forbid")
    gene: str                                  # the gene holding the split position (nb201: n1, n2, n3)
    position: int = Field(ge=0)                # its Karva position: a position the search varies
    steps: int = Field(ge=1)                   # each sub-supernet's steps, from the whole supernet's weights
    lr: float | None = Field(None, gt=0)       # their cosine's start (default: half of supernet.lr)


class SupernetOptions(BaseModel):
    """`fitness.options` of the supernet estimator."""
    model_config = ConfigDict(extra="forbid")
    ensemble: int = Field(1, ge=1)             # a score is the mean accuracy over the last k checkpoints
    few_shot: FewShot | None = None


def options(spec) -> SupernetOptions:
    return SupernetOptions.model_validate(spec.fitness.options)


def split_position(spec) -> tuple[int, int] | None:
    """(gene index, position) of the few-shot split, or None (checked by `spec check`)."""
    fs = options(spec).few_shot
    if fs is None:
        return None
    slots = Template.from_spec(spec.space).slots
    return next(i for i, g in enumerate(slots) if g.name == fs.gene), fs.position


def build_supernet(spec) -> nn.Module:
    """The spec's supernet, as its space builds one, initialised from the run
    seed (the same in every process)."""
    from genelang.runtime.task_data import task_data
    task, model = spec.configs()
    data, _ = task_data(task)
    space = get_space(spec.space.space)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.run.seed)
        # a sequence task has no image shape (the rnn supernet reads num_classes as its vocabulary)
        shape = tuple(data.train_x.shape[1:]) if hasattr(data, "train_x") else ()
        return space.builder("supernet")(Template.from_spec(spec.space), model, num_classes=data.num_classes,
                                        input_shape=shape, share=spec.supernet.share)


def training(spec) -> SupernetTraining:
    """The whole schedule (its cosine spans every segment of the search)."""
    sn = spec.supernet
    steps = sn.steps + sn.steps_per_generation * (spec.strategy.generations - 1)
    # a recurrent language model clips gradients at 0.25 (ENAS, AWD-LSTM; as train_genome does)
    clip = 0.25 if get_space(spec.space.space).modality == "sequence" else SupernetTraining.grad_clip
    return SupernetTraining(steps=steps, lr=sn.lr, batch_size=sn.batch_size or spec.task.batch_size,
                            checkpoint_every=sn.checkpoint_every, grad_clip=clip, seed=spec.run.seed)


def steps_before(spec, generation: int) -> int:
    """Supernet steps done before `generation` is evaluated."""
    return spec.supernet.steps + spec.supernet.steps_per_generation * generation


def prepare(state: RunState, progress, generation: int) -> EvalContext:
    """Train the search's supernet up to where `generation` needs it (resuming its
    checkpoint); the candidates get a reference to it."""
    spec, ref = state.spec, state.context.supernet
    until = steps_before(spec, generation)
    if ref is not None and ref.step == until:
        return state.context
    net = build_supernet(spec)
    sampler = (state.sampler if generation > 0 and state.sampler is not None
               else SAMPLERS[spec.supernet.sampling](net.shape))
    device = placement(spec.execution).devices[0]    # the first GPU of the search, if it has any
    shown = getattr(progress, "supernet_step", None)

    def step(done: int, total: int, loss: float) -> None:   # the run page draws the curve from the log
        log_step(state.run_dir / "supernet", done, loss)
        if shown is not None:
            shown(done, total, loss)

    opts = options(spec)
    out = state.run_dir / "supernet"
    with torch_threads(spec.execution.threads):
        done = train_supernet(net, sampler, spec.configs()[0], training(spec), out, device=device, progress=step,
                              until=until, keep=0 if opts.few_shot or opts.ensemble == 1 else opts.ensemble)
        ref = SupernetRef(str(done.checkpoint), done.step)
        if opts.few_shot is not None:
            ref = replace(ref, parts=_train_parts(spec, net, out, device))
    return replace(state.context, supernet=ref)


def _train_parts(spec, whole: nn.Module, out: Path, device: str) -> tuple[SupernetRef, ...]:
    """Few-shot NAS: one sub-supernet per symbol of the split position, each
    starting from the whole supernet's weights and trained on its part only."""
    fs, (gene, pos) = options(spec).few_shot, split_position(spec)
    sn, k = spec.supernet, options(spec).ensemble
    cfg = SupernetTraining(steps=fs.steps, lr=fs.lr or sn.lr / 2, batch_size=sn.batch_size or spec.task.batch_size,
                           checkpoint_every=sn.checkpoint_every, seed=spec.run.seed)
    refs = []
    for part in whole.shape.splits(gene, pos):
        net = build_supernet(spec)
        net.load_state_dict(whole.state_dict())     # a part's own checkpoint, if any, replaces these
        part_dir = out / f"split-{part.genes[gene].domains[pos][0]}"
        done = train_supernet(net, SAMPLERS[sn.sampling](part), spec.configs()[0], cfg, part_dir, device=device,
                              progress=lambda d, total, loss, p=part_dir: log_step(p, d, loss),
                              keep=0 if k == 1 else k)
        refs.append(SupernetRef(str(done.checkpoint), done.step))
    return tuple(refs)
