"""One-shot search (`fitness.estimator: supernet`, docs/supernet.md): the
search's Template as the runtime's supernet shape, and the step before
generation 0 that trains (or resumes, or finds finished) the supernet in
RUN_DIR/supernet/."""
from __future__ import annotations

from dataclasses import replace

import torch

from genelang.evolve.evaluation import EvalContext, SupernetRef
from genelang.evolve.template import Template
from genelang.runtime.config import ModelConfig
from genelang.runtime.supernet import SAMPLERS, GeneShape, Supernet, SupernetShape, SupernetTraining, train_supernet


def supernet_shape(template: Template, model: ModelConfig, *, num_classes: int,
                   in_channels: int) -> SupernetShape:
    genes = tuple(GeneShape(s.kind, s.name, s.head_len, tuple(s.domain(p) for p in range(s.head_len + s.tail_len)))
                  for s in template.slots)
    return SupernetShape.of(template.space, genes, model, num_classes=num_classes, in_channels=in_channels)


def build_supernet(spec) -> Supernet:
    """The spec's supernet, initialised from the run seed (the same in every process)."""
    from genelang.runtime.train import task_data
    task, model = spec.configs()
    data, _ = task_data(task)
    shape = supernet_shape(Template.from_spec(spec.space), model, num_classes=data.num_classes,
                           in_channels=data.in_channels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.run.seed)
        return Supernet(shape)


def training(spec) -> SupernetTraining:
    sn = spec.supernet
    return SupernetTraining(steps=sn.steps, lr=sn.lr, batch_size=sn.batch_size or spec.task.batch_size,
                            checkpoint_every=sn.checkpoint_every, seed=spec.run.seed)


def prepare(search, progress) -> EvalContext:
    """Train the search's supernet (resuming its checkpoint); the candidates get a reference to it."""
    spec = search.spec
    net = build_supernet(spec)
    sampler = SAMPLERS[spec.supernet.sampling](net.shape)
    done = train_supernet(net, sampler, spec.configs()[0], training(spec), search.run_dir / "supernet",
                          device=search.context.device, progress=getattr(progress, "supernet_step", None))
    return replace(search.context, supernet=SupernetRef(str(done.checkpoint), done.step))
