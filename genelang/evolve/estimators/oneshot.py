"""One-shot search (`fitness.estimator: supernet`, docs/supernet.md): the
spec's supernet as its space builds it (`Space.supernet`), and the step before each
generation that trains (or resumes, or finds done) the supernet in
RUN_DIR/supernet/ up to where that generation needs it: `supernet.steps`
before generation 0, then `supernet.steps_per_generation` more before each
later one (ENAS's alternation), on paths the strategy samples when it is a
sampler itself (`strategy: controller`, a `SamplesPaths`)."""
from __future__ import annotations

from dataclasses import replace

import torch

from genelang.evolve.execution.evaluation import EvalContext, RunState, SupernetRef
from genelang.evolve.execution.placement import placement
from genelang.compiler.template import Template
from torch import nn

from genelang.compiler.registry import get_space
from genelang.runtime.devices import torch_threads
from genelang.runtime.supernet import SAMPLERS, SupernetTraining, train_supernet
from genelang.runtime.supernet_curve import log_step


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

    with torch_threads(spec.execution.threads):
        done = train_supernet(net, sampler, spec.configs()[0], training(spec), state.run_dir / "supernet",
                              device=device, progress=step, until=until)
    return replace(state.context, supernet=SupernetRef(str(done.checkpoint), done.step))
