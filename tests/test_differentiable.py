"""Differentiable search (genelang/differentiable, evolve/strategies/differentiable.py):
mixed ops, GDAS's straight-through sample, the second-order gradient against
finite differences, α finding a planted op, derived genomes stored by a
search, resume after SIGKILL to the same α, the hardware loss, spec errors."""
import os
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from genelang.compiler.nb201 import OPS, genome_from_key, key_of
from genelang.differentiable import (Architecture, HardGumbel, PartialChannels, RelaxedSearch, Schedule, Softmax,
                                     get_relaxation, most_probable)
from genelang.differentiable.bilevel import second_order, virtual_weights
from genelang.differentiable.hardware import HardwareTarget
from genelang.differentiable.mixed import MixedOp, channel_shuffle
from genelang.differentiable.nb201 import MixedNB201Network, _op
from tests.evolve_helpers import kill_once_checkpointed
from tests.differentiable_helpers import PlantedRelaxation, nb201_search, planted_data

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")


def _ops(C):
    torch.manual_seed(0)
    return [_op(o, C) for o in OPS]


def test_mixed_op_equals_the_weighted_sum_of_its_ops():
    ops, x, w = _ops(4), torch.randn(2, 4, 8, 8), torch.softmax(torch.randn(5), 0)
    mixed = MixedOp(ops)
    want = sum(wk * op(x) for wk, op in zip(w, ops))
    assert torch.allclose(mixed(x, w), want, atol=1e-6)


def test_partial_channel_op_mixes_one_kth_of_the_channels_and_shuffles():
    ops, x, w = _ops(2), torch.randn(2, 8, 4, 4), torch.softmax(torch.randn(5), 0)
    out = MixedOp(ops, partial=4)(x, w)
    inner = sum(wk * op(x[:, :2]) for wk, op in zip(w, ops))
    assert torch.allclose(out, channel_shuffle(torch.cat([inner, x[:, 2:]], 1), 4), atol=1e-6)
    assert out.shape == x.shape


def test_gdas_runs_one_op_forward_and_its_gradient_reaches_every_logit():
    ops = _ops(4)
    calls = [0] * len(ops)
    for k, op in enumerate(ops):
        op.register_forward_hook(lambda m, i, o, k=k: calls.__setitem__(k, calls[k] + 1))
    arch = Architecture([5], seed=1)
    s = HardGumbel().sample(arch, torch.Generator().manual_seed(0), 0.0)
    c = s.chosen[0]
    assert s.weights[0].tolist() == [float(k == c) for k in range(5)]   # the forward is a one-hot
    out = MixedOp(ops)(torch.randn(2, 4, 8, 8), s.weights[0], c)
    assert calls == [int(k == c) for k in range(5)]
    out.square().mean().backward()
    assert (arch.alpha[0].grad.abs() > 0).all()


def test_gdas_temperature_falls_linearly_from_tau_max_to_tau_min():
    m = HardGumbel(tau_max=10, tau_min=0.1)
    assert (m.tau(0.0), m.tau(0.5), m.tau(1.0)) == pytest.approx((10, 5.05, 0.1))


def test_second_order_arch_gradient_matches_finite_differences():
    """DARTS-2's α gradient is d/dα L_val(w − ξ(∇_w L_train + wd·w + m·buf), α): checked
    against central differences of that function, in float64. The formula is
    checked with a small finite-difference step in the Hessian-vector product;
    DARTS's own step (ε‖v‖ = 0.01) is an approximation, still better than first order."""
    torch.manual_seed(0)
    net = MixedNB201Network(1, C=2, N=1, num_classes=3, in_channels=1).double()
    arch = Architecture([5] * 6, seed=0, scale=0.5).double()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(8, 1, 4, 4, dtype=torch.float64)
    train, val = (x[:4], torch.tensor([0, 1, 2, 0])), (x[4:], torch.tensor([2, 1, 0, 1]))
    xi, alphas = 0.1, list(arch.parameters())

    def sample():
        return Softmax().sample(arch, None, 0)
    # one real step first, so the virtual step carries a momentum buffer too
    torch.nn.functional.cross_entropy(net(train[0], sample()), train[1]).backward()
    opt.step()

    def unrolled_val_loss() -> float:
        from torch.func import functional_call
        w = virtual_weights(net, opt, sample, train, xi)
        return float(torch.nn.functional.cross_entropy(functional_call(net, w, (val[0], sample())), val[1]).detach())

    def at(a, i, shift) -> float:
        with torch.no_grad():
            a.view(-1)[i] += shift
        loss = unrolled_val_loss()
        with torch.no_grad():
            a.view(-1)[i] -= shift
        return loss
    want = torch.tensor([(at(a, i, 1e-6) - at(a, i, -1e-6)) / 2e-6 for a in alphas for i in range(a.numel())],
                        dtype=torch.float64)

    def grad(scale: float) -> torch.Tensor:
        second_order(net, alphas, sample, train, val, opt, xi, lambda: 0.0, hvp_scale=scale)
        return torch.cat([a.grad.flatten() for a in alphas])
    assert torch.allclose(grad(1e-7), want, rtol=1e-4, atol=1e-7), (grad(1e-7) - want).abs().max()
    first = torch.autograd.grad(torch.nn.functional.cross_entropy(net(val[0], sample()), val[1]), alphas)
    first_error = (torch.cat([g.flatten() for g in first]) - want).norm()
    assert (grad(0.01) - want).norm() < first_error


@pytest.mark.parametrize("method", [Softmax(), HardGumbel(tau_max=2, tau_min=0.5), PartialChannels(partial=2)],
                         ids=["darts", "gdas", "pc-darts"])
def test_alpha_moves_to_the_planted_best_op(tmp_path, method):
    relax = PlantedRelaxation()
    found = RelaxedSearch(relax, method, Schedule(epochs=6, batch_size=32, arch_lr=0.05, seed=0), planted_data(),
                          tmp_path).run()
    probs = torch.softmax(torch.tensor(found.alphas[0]), 0)
    assert relax.argmax([torch.tensor(found.alphas[0])]) == [2]
    assert probs[2] > 0.5


def test_most_probable_lists_genomes_in_probability_order():
    import itertools
    probs = [[0.5, 0.3, 0.2], [0.6, 0.4], [0.1, 0.7, 0.2]]
    every = sorted(itertools.product(*[range(len(p)) for p in probs]),
                   key=lambda ix: -torch.tensor([p[i] for p, i in zip(probs, ix)]).prod())
    assert most_probable(probs, 5) == [list(ix) for ix in every[:5]]


def test_nb201_costs_are_the_built_networks_parameters():
    from genelang.runtime.nb201_network import NB201Network, count_params
    grid = get_relaxation("nb201").costs(num_classes=10, input_shape=(3, 32, 32))
    for key in ("333132", "000000", "333333", "120341"):
        ix = [int(d) for d in key]
        assert grid.of(ix).params == count_params(NB201Network(genome_from_key(key)))
    assert grid.of([3] * 6).params == 1_531_546


def _spec(tmp_path, **options) -> dict:
    return {"run": {"name": "d", "seed": 0, "out": str(tmp_path / "run")},
            "task": {"name": "digits", "subset": 128, "batch_size": 16},
            "space": {"space": "nb201"},
            "strategy": {"name": options.pop("name", "darts"),
                         "options": {"epochs": 2, "C": 4, "N": 1} | options},
            "fitness": {"estimator": "tabular"}}


@pytest.mark.parametrize("name, extra", [
    ("darts", {}), ("darts", {"order": 2, "hardware": {"cost": "macs", "target": 1e7}}), ("gdas", {}),
    ("pc-darts", {"k": 2})], ids=["darts-1", "darts-2", "gdas", "pc-darts"])
def test_derived_genomes_check_compile_and_are_stored_with_the_alpha_history(tmp_path, name, extra):
    from genelang.compiler import load_text
    from genelang.compiler.check import check_genome
    from genelang.evolve.run.runs import load_run
    from genelang.evolve.search import run_search
    from genelang.evolve.spec.schema import parse_spec
    from genelang.runtime.build import build_model
    options = {"derive": 2} | extra
    result = run_search(parse_spec(_spec(tmp_path, name=name, **options)))
    run = load_run(result.run_dir)
    assert len(run.evaluations) == 2 and (run.evaluations.status == "ok").all()
    for text in run.evaluations.genome:
        genome = load_text(text, "<stored>").genomes[0]
        assert not check_genome(genome)
        net, example = build_model(genome)
        assert net(example).shape == (2, 10)
    history = yaml.safe_load((result.run_dir / "differentiable" / "alpha_history.json").read_text())
    assert [r["epoch"] for r in history["epochs"]] == [0, 1]
    assert history["summary"]["peak_memory_mb"] > 0
    assert (result.run_dir / "differentiable" / "alpha.png").stat().st_size > 0
    keys = [key_of(load_text(t, "<stored>").genomes[0]) for t in run.evaluations.genome]
    assert keys[0] == key_of(load_text(history["epochs"][-1]["genome"], "<history>").genomes[0])  # the argmax first
    assert len(set(keys)) == 2
    assert key_of(load_text((result.run_dir / "best.gene").read_text(), "best.gene").genomes[0]) in keys
    from genelang.evolve.run.status import run_status
    st = run_status(result.run_dir)
    assert (st.generations_done, st.generations) == (1, 1)   # so `status --watch` sees it finished
    again = run_search(parse_spec(_spec(tmp_path, name=name, **options)))   # a finished run: nothing redone
    assert again.evaluations == 2 and len(load_run(result.run_dir).evaluations) == 2


def test_resume_after_sigkill_reaches_the_alpha_of_an_uninterrupted_run(tmp_path):
    epochs = 4
    whole = nb201_search(tmp_path / "whole", epochs=epochs).run()
    killed = tmp_path / "killed"
    kill_once_checkpointed(["tests.differentiable_helpers", str(killed), str(epochs)], killed / "checkpoint.pt",
                           env=os.environ | {"PYTHONPATH": str(ROOT)}, poll=0.02)
    assert torch.load(killed / "checkpoint.pt", weights_only=True)["epoch"] < epochs
    resumed = nb201_search(killed, epochs=epochs).run()
    assert resumed.alphas == whole.alphas
    assert [r["alpha"] for r in resumed.history] == [r["alpha"] for r in whole.history]


def test_hardware_loss_lowers_the_expected_cost(tmp_path):
    free = nb201_search(tmp_path / "free", epochs=2, arch_lr=0.01).run()
    bound = nb201_search(tmp_path / "bound", epochs=2, arch_lr=0.01,
                         hardware=HardwareTarget("params", 2e5, 5.0, "hinge")).run()
    assert bound.history[-1]["expected_params"] < free.history[-1]["expected_params"]
    assert bound.history[-1]["expected_params"] < free.history[0]["expected_params"]


@pytest.mark.parametrize("options, where", [
    ({"order": 3}, "strategy.options.order"),
    ({"hardware": {"cost": "flops", "target": 1e6}}, "strategy.options.hardware.cost"),
    ({"hardware": {"weight": 1}}, "strategy.options.hardware.target"),
    ({"warmup_epochs": 5}, "strategy.options.warmup_epochs"),
    ({"epocs": 5}, "strategy.options.epocs"),
])
def test_bad_options_are_located_spec_errors_that_exit_2(tmp_path, options, where):
    from genelang.cli import cli
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(tmp_path, **options)))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2, res.output
    assert where in res.output


def test_a_space_without_a_relaxation_is_refused_at_space_space(tmp_path):
    from genelang.cli import cli
    spec = _spec(tmp_path) | {"space": {"space": "conv"}, "fitness": {"estimator": "train"}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2 and "space.space" in res.output and "relaxation" in res.output


def test_beta_decay_keeps_the_architecture_distribution_flatter(tmp_path):
    def peak(beta: float) -> float:
        found = RelaxedSearch(PlantedRelaxation(), Softmax(),
                              Schedule(epochs=4, batch_size=32, arch_lr=0.05, beta_decay=beta, seed=0),
                              planted_data(), tmp_path / str(beta)).run()
        return float(torch.softmax(torch.tensor(found.alphas[0]), 0).max())
    assert peak(5.0) < peak(0.0)
