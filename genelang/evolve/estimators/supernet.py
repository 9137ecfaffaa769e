"""`supernet`: one-shot scoring (docs/supernet.md). A candidate runs its path
through the search's trained supernet (trained before generation 0 by
`evolve/estimators/oneshot.py`), recalibrates the path's BatchNorm statistics on
`supernet.bn_batches` training batches and is scored by its accuracy on the
first `supernet.val_samples` images of the validation split. The supernet and
those batches are loaded once per worker process; every candidate sees the
same batches, so a score depends on the genome alone.

Options (`fitness.options`, `oneshot.SupernetOptions`): `ensemble: k` scores a
candidate with each of the supernet's last k checkpoints (each recalibrated)
and averages the accuracies; `few_shot` scores it with the sub-supernet of
its symbol at the split position (`runtime/supernet/fewshot.route`).

An rnn genome's path is a language model: it is scored by its validation
perplexity over the first `supernet.val_samples` windows of the validation
text (in `batch_size` parallel streams, the hidden state carried from window
to window, `runtime.tbptt.perplexity`). As the `train` estimator's, its
fitness is minus the perplexity (a search maximises fitness) and the metric
stored is `val_ppl`, the perplexity itself.

Scoring runs in inference mode, in channels_last where the supernet's convs
are wide enough for it (`runtime.channels_last.channels_last_safe`: a layout, the
same numbers, 1.5-2x faster on the CPU) and at `fitness.precision`.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from genelang.compiler.registry import get_space
from genelang.compiler.template import Template
from genelang.evolve.estimators import Candidate, register_estimator
from genelang.evolve.estimators.oneshot import SupernetOptions, build_supernet, options, prepare, split_position
from genelang.evolve.spec.rules import option_errors

from genelang.runtime.cache import Recent

_NETS = Recent(maxsize=1)      # (SupernetRef, device) -> (per part, its nets; memory format)
_DATA = Recent(maxsize=1)      # what the candidates of one search are scored with


def _option_checks(spec) -> list[tuple[str, str, str]]:
    from genelang.runtime.supernet.train import ensemble_steps
    out = option_errors(SupernetOptions, spec.fitness.options, "fitness.options")
    if out:
        return out
    opts, sn = options(spec), spec.supernet
    fs = opts.few_shot
    if fs is not None:
        slots = Template.from_spec(spec.space).slots
        gene = next((g for g in slots if g.name == fs.gene), None)
        if gene is None:
            out.append(("fitness.options.few_shot.gene", f"the space has no gene {fs.gene!r}",
                        f"choose from: {', '.join(g.name for g in slots)}"))
        elif fs.position not in gene.free:
            out.append(("fitness.options.few_shot.position", f"position {fs.position} of {fs.gene} is not one "
                        "the search varies", f"choose from: {', '.join(map(str, gene.free)) or 'none'}"))
        if sn.steps_per_generation:
            out.append(("fitness.options.few_shot", "few-shot parts train once, after the whole supernet; "
                        "supernet.steps_per_generation keeps training it", "set one of them only"))
    stop, where = (fs.steps, "fitness.options.few_shot.steps") if fs else (sn.steps, "supernet.steps")
    have = len(ensemble_steps(stop, sn.checkpoint_every, opts.ensemble))
    if have < opts.ensemble:
        out.append(("fitness.options.ensemble", f"{where} {stop} with supernet.checkpoint_every "
                    f"{sn.checkpoint_every} makes {have} checkpoint(s), not {opts.ensemble}",
                    "lower supernet.checkpoint_every or the ensemble"))
    return out


def _check(spec) -> list[tuple[str, str, str]]:
    from genelang.runtime.supernet import SAMPLERS
    out = _option_checks(spec)
    if get_space(spec.space.space).modality == "sequence":
        out += _sequence_checks(spec)
    if spec.supernet.sampling not in SAMPLERS:
        out.append(("supernet.sampling", f"unknown sampling {spec.supernet.sampling!r}",
                    f"choose from: {', '.join(SAMPLERS)}"))
    elif spec.supernet.sampling == "distinct":
        free = [len(d) for s in Template.from_spec(spec.space).slots for d in s.domains if len(d) > 1]
        if math.prod(free) > DISTINCT_LIMIT:
            out.append(("supernet.sampling", f"'distinct' lists the space's genomes; this one has "
                        f"{math.prod(free):.3g} spellings", "use strict-fair or uniform on spaces this large"))
    return out


DISTINCT_LIMIT = 1_000_000


def _sequence_checks(spec) -> list[tuple[str, str, str]]:
    """The rnn supernet trains and scores a language model."""
    if spec.task.name != "lm":
        return [("task.name", f"the {spec.space.space} supernet trains a language model, not task "
                 f"{spec.task.name!r}", "use task.name: lm, or fitness.estimator: train")]
    return []


def _has_supernet(space) -> bool:
    return space.supernet is not None


def _supernets(c: Candidate) -> tuple[list[nn.Module], torch.memory_format]:
    """The trained supernets that score this candidate: its part's (few-shot) or the
    whole one, at each checkpoint of the ensemble."""
    from genelang.runtime.supernet.fewshot import route
    ref, device = c.context.supernet, c.context.device
    if ref is None:
        raise RuntimeError("the supernet estimator scores candidates of a search (genelang evolve), "
                           "which trains the supernet first")
    parts, fmt = _NETS.get_or_make((ref, device), lambda: _load_all(c, ref, device))
    split = split_position(c.spec)
    if split is None:
        return parts[0], fmt
    part = route(Template.from_spec(c.spec.space).slots, *split, c.genome)
    c.metrics["supernet_part"] = part
    return parts[part], fmt


def _load_all(c: Candidate, ref, device: str) -> tuple[list[list[nn.Module]], torch.memory_format]:
    from genelang.runtime.channels_last import channels_last_safe
    nets = [[_load(c, r, step, device) for step in _steps(c.spec, r)] for r in (ref.parts or (ref,))]
    fmt = torch.channels_last if channels_last_safe(nets[0][0]) else torch.contiguous_format
    return [[n.to(device, memory_format=fmt).eval() for n in part] for part in nets], fmt


def _steps(spec, ref) -> list[int | None]:
    """The ensemble's checkpoint steps (None: the checkpoint itself, when there is no ensemble)."""
    from genelang.runtime.supernet.train import ensemble_steps
    k = options(spec).ensemble
    return [None] if k == 1 else ensemble_steps(ref.step, spec.supernet.checkpoint_every, k)


def _load(c: Candidate, ref, step: int | None, device: str) -> nn.Module:
    from genelang.runtime.supernet import load_checkpoint
    from genelang.runtime.supernet.train import load_snapshot
    if step is None:
        saved = load_checkpoint(Path(ref.path), device)
        state = saved["model"] if saved is not None and saved["step"] == ref.step else None
    else:
        state = load_snapshot(Path(ref.path).parent, step, device)
    if state is None:
        raise FileNotFoundError(f"supernet checkpoint {ref.path} (step {step or ref.step}) is not visible here: "
                                "workers need the run directory on a filesystem they share")
    net = build_supernet(c.spec)
    net.load_state_dict(state)
    return net


def _data(c: Candidate, fmt: torch.memory_format) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """(BN batches, validation images, labels): the same for every candidate of the search."""
    sn, device = c.spec.supernet, c.context.device
    key = (c.task, sn.bn_batches, sn.batch_size, sn.val_samples, c.spec.run.seed, device, fmt)
    return _DATA.get_or_make(key, lambda: _scoring_data(c, fmt))


def _scoring_data(c: Candidate, fmt: torch.memory_format):
    from genelang.runtime.task_data import task_data
    sn, device = c.spec.supernet, c.context.device
    _, s = task_data(c.task)
    bs = sn.batch_size or c.task.batch_size
    order = torch.randperm(len(s.train[0]), generator=torch.Generator().manual_seed(c.spec.run.seed))
    bn = [s.train[0][order[i * bs:(i + 1) * bs]] for i in range(sn.bn_batches)]
    bn = [b for b in bn if len(b) > 1]      # BatchNorm needs two samples in training mode
    return ([b.to(device, memory_format=fmt) for b in bn], s.val[0][: sn.val_samples].to(device, memory_format=fmt),
            s.val[1][: sn.val_samples].to(device))


def _lm_streams(c: Candidate):
    """The validation text's first `val_samples` windows, in parallel streams."""
    from genelang.runtime.task_data import task_data
    from genelang.runtime.tbptt import Streams
    sn = c.spec.supernet
    bs = sn.batch_size or c.task.batch_size

    def make():
        _, s = task_data(c.task)
        return Streams.of(s.val[0][: sn.val_samples], s.val[2][: sn.val_samples], bs)
    return _DATA.get_or_make((c.task, bs, sn.val_samples, "lm"), make)


@register_estimator("supernet", fits_space=_has_supernet, builds_model=False, checks=_check, prepare=prepare,
                    options=SupernetOptions)
@torch.inference_mode()
def supernet(c: Candidate) -> float:
    """Validation accuracy of the genome's path through the trained supernet, BN
    recalibrated; for a language model, minus its validation perplexity (each the
    mean over the checkpoints of `fitness.options.ensemble`)."""
    nets, fmt = _supernets(c)
    if get_space(c.genome.space).modality == "sequence":
        ppl = sum(_perplexity(c, net) for net in nets) / len(nets)
        c.metrics.update(val_ppl=ppl, supernet_step=c.context.supernet.step)
        return -ppl
    bn, x, y = _data(c, fmt)
    acc = sum(_accuracy(c, net, bn, x, y) for net in nets) / len(nets)
    # `params` stays the cost table's (the stand-alone network's, priced before scoring): with
    # a coarse supernet.share a path runs some blocks twice, so its own parameters are fewer
    c.metrics.update(val_acc=acc, supernet_step=c.context.supernet.step)
    return acc


def _perplexity(c: Candidate, net: nn.Module) -> float:
    from genelang.runtime.devices import autocast
    from genelang.runtime.tbptt import perplexity
    with autocast(c.fitness.precision, c.context.device):
        return perplexity(net.path(c.genome), _lm_streams(c), c.context.device)


def _accuracy(c: Candidate, net: nn.Module, bn: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    from genelang.runtime.devices import autocast
    from genelang.runtime.supernet import recalibrate_bn
    path = net.path(c.genome)
    with autocast(c.fitness.precision, c.context.device):
        if bn:
            recalibrate_bn(path, bn)
        else:
            path.eval()
        correct = sum((path(x[i:i + 256]).argmax(1) == y[i:i + 256]).sum().item() for i in range(0, len(y), 256))
    return correct / len(y)
