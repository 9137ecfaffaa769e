"""Zero-cost proxies against values derived by hand on tiny networks (the
gradients and Jacobians written out as matrix formulas, not autograd), the
shared-pass `score_all` against each proxy alone, and the rank vote."""
from __future__ import annotations

import copy
import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from genelang.compiler.nb201 import genome_from_key
from genelang.errors import SpecError
from genelang.runtime import proxies, zero_cost
from genelang.runtime.nb201_network import NB201Network


def two_layer(seed: int = 0) -> nn.Sequential:
    """x ↦ W2·relu(W1·x): 3 inputs, 4 hidden, 2 classes, no biases."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False)).double()


def batch(seed: int, n: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g, dtype=torch.float64), torch.randint(0, 2, (n,), generator=g)


def hand_grads(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """∂ mean CE / ∂W1, ∂W2 by the chain rule: δ = softmax(z) − onehot(y) per row,
    G2 = δᵀh / n, G1 = ((δ W2) ⊙ [W1x > 0])ᵀ x / n."""
    W1, W2 = net[0].weight.detach(), net[2].weight.detach()
    pre = x @ W1.T
    h = pre.clamp_min(0)
    z = h @ W2.T
    delta = torch.softmax(z, 1) - torch.nn.functional.one_hot(y, 2).double()
    n = len(x)
    return [((delta @ W2) * (pre > 0)).T @ x / n, delta.T @ h / n]


def test_snip_and_grad_norm_by_hand():
    net, (x, y) = two_layer(), batch(1)
    G1, G2 = hand_grads(net, x, y)
    W1, W2 = net[0].weight.detach(), net[2].weight.detach()
    assert zero_cost.snip(net, x, y) == pytest.approx(float((W1 * G1).abs().sum() + (W2 * G2).abs().sum()),
                                                      rel=1e-12)
    assert zero_cost.grad_norm(net, x, y) == pytest.approx(
        math.sqrt(float((G1 ** 2).sum())) + math.sqrt(float((G2 ** 2).sum())), rel=1e-12)


def test_zico_by_hand():
    net, (x1, y1), (x2, y2) = two_layer(), batch(1), batch(2)
    expected = 0.0
    for a, b in zip(hand_grads(net, x1, y1), hand_grads(net, x2, y2)):
        # two batches: mean|g| = (|a|+|b|)/2 and the population std = |a−b|/2
        a, b = a.flatten().tolist(), b.flatten().tolist()
        expected += math.log(sum((abs(p) + abs(q)) / abs(p - q) for p, q in zip(a, b) if p != q))
    assert zero_cost.zico(net, [(x1, y1), (x2, y2)]) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="at least 2"):
        zero_cost.zico(net, [(x1, y1)])


def test_jacob_cov_by_hand():
    net, (x, _) = two_layer(), batch(3, n=2)
    W1, W2 = net[0].weight.detach(), net[2].weight.detach()
    # ∂(Σ logits)/∂x_i = W1ᵀ ([W1 x_i > 0] ⊙ W2ᵀ·1), one row per image
    J = torch.stack([W1.T @ ((W1 @ xi > 0).double() * W2.sum(0)) for xi in x])
    a, b = J[0] - J[0].mean(), J[1] - J[1].mean()
    r = float((a @ b) / (a.norm() * b.norm()))
    k = 1e-5
    # the correlation matrix of two rows is [[1, r], [r, 1]]: eigenvalues 1 ± r
    expected = -sum(math.log(v + k) + 1 / (v + k) for v in (1 + r, 1 - r))
    assert zero_cost.jacob_cov(net, x) == pytest.approx(expected, rel=1e-9)
    # a linear network has one Jacobian for every image: r = 1, eigenvalues 0 and 2
    linear = nn.Sequential(nn.Linear(3, 2)).double()
    assert zero_cost.jacob_cov(linear, x) == pytest.approx(
        -(math.log(k) + 1 / k + math.log(2 + k) + 1 / (2 + k)), rel=1e-6)
    # one that ignores its input (all weights 0) has no correlation to score: the worst
    nn.init.zeros_(linear[0].weight)
    assert zero_cost.jacob_cov(linear, x) == float("-inf")


def test_meco_by_hand():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 2, 1, bias=False).double()
    net = nn.Sequential(conv)
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    (a, b), (c, d) = conv.weight.detach()[:, :, 0, 0].tolist()
    X1, X2 = x[0, 0].flatten(), x[0, 1].flatten()        # MeCo reads the first image only
    o1, o2 = a * X1 + b * X2, c * X1 + d * X2
    o1, o2 = o1 - o1.mean(), o2 - o2.mean()
    r = float((o1 @ o2) / (o1.norm() * o2.norm()))
    # [[1, r], [r, 1]] has minimum eigenvalue 1 − |r|; the Sequential's output is the
    # conv's and counts again, as every module is hooked in the reference
    assert zero_cost.meco(net, x) == pytest.approx(2 * (1 - abs(r)), rel=1e-9)


def test_macs_and_params_by_hand():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 8, 5))
    x = torch.randn(2, 3, 8, 8)
    assert zero_cost.macs(net, x) == 8 * 8 * 4 * (3 * 3 * 3) + 4 * 8 * 8 * 5
    assert zero_cost.params(net) == 4 * 27 + 4 + 256 * 5 + 5


def test_score_all_gives_each_proxys_own_number():
    torch.manual_seed(0)
    net = NB201Network(genome_from_key("313201"), C=4, N=1)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 3, 16, 16, generator=g), torch.randint(0, 10, (8,), generator=g)) for _ in range(2)]
    (x, y) = batches[0]
    alone = {"naswot": proxies.naswot(copy.deepcopy(net), x), "snip": zero_cost.snip(copy.deepcopy(net), x, y),
             "grad_norm": zero_cost.grad_norm(copy.deepcopy(net), x, y),
             "jacob_cov": zero_cost.jacob_cov(copy.deepcopy(net), x),
             "zico": zero_cost.zico(copy.deepcopy(net), batches), "meco": zero_cost.meco(copy.deepcopy(net), x),
             "macs": zero_cost.macs(copy.deepcopy(net), x), "params": zero_cost.params(net),
             "synflow": proxies.synflow(net, x)}
    together = zero_cost.score_all(copy.deepcopy(net), batches, released_zico=True)
    for name, value in alone.items():
        assert together[name] == pytest.approx(value, rel=1e-6, abs=1e-9), name
    assert math.isfinite(together["zico_released"]) and together["zico_released"] != together["zico"]


def test_rank_vote_is_the_mean_of_the_members_ranks():
    cols = {"a": [3.0, 1.0, 2.0, 5.0], "b": [10.0, 30.0, 20.0, 20.0], "c": [float("nan"), 0.0, 1.0, 2.0]}
    # ranks (1 = lowest; ties share; NaN lowest): a 3 1 2 4, b 1 4 2.5 2.5, c 1 2 3 4
    assert zero_cost.rank_vote(cols).tolist() == pytest.approx([5 / 3, 7 / 3, 7.5 / 3, 10.5 / 3])
    assert zero_cost.percentile(2.0, [1.0, 2.0, 3.0, 4.0]) == pytest.approx(1.5 / 4)


def _spec(tmp_path, fitness: dict, space: dict | None = None):
    from genelang.evolve.spec.schema import parse_spec
    return parse_spec({"run": {"name": "z", "seed": 3, "out": str(tmp_path / "z")},
                       "task": {"name": "digits", "subset": 256},
                       "space": space or {"space": "conv", "adfs": 3, "adf_head": 2, "main_head": 2},
                       "model": {"C": 4, "N": 1}, "fitness": fitness, "execution": {"workers": 0}})


def test_ensemble_estimator_scores_mean_member_ranks_against_its_reference(tmp_path):
    """Scoring the reference genomes themselves: each one's fitness is its mean
    rank among them over the members (mid-ranks, scaled to [0, 1])."""
    from genelang.compiler.dag import phenotype_hash
    from genelang.compiler.printer import format_genome
    from genelang.evolve.execution.evaluation import EvalRequest
    from genelang.evolve.execution.fitness import evaluate
    from genelang.evolve.search import candidate_seed
    from genelang.compiler.template import Template
    members, n = ["param-count", "naswot"], 5
    spec = _spec(tmp_path, {"estimator": "ensemble", "options": {"members": members, "reference": n}})
    template, rng = Template.from_spec(spec.space), random.Random(f"{spec.run.seed}:ensemble")
    genomes = [template.genome(template.random(rng)) for _ in range(n)]
    # each with the seed a search gives it (its minibatch and initialisation), as the reference was scored
    results = [evaluate(EvalRequest(format_genome(g), candidate_seed(spec.run.seed, phenotype_hash(g)), spec))
               for g in genomes]
    assert all(r.status == "ok" for r in results), [r.reason for r in results]
    cols = {m: [r.metrics[f"{m}_score"] for r in results] for m in members}
    assert [r.fitness for r in results] == pytest.approx(list((zero_cost.rank_vote(cols) - 0.5) / n))
    assert cols["param-count"] == [float(r.metrics["params"]) for r in results]


@pytest.mark.parametrize("options, where, says", [
    ({"members": ["synflow", "synflw"]}, "fitness.options.members[1]", "did you mean 'synflow'"),
    ({"members": ["synflow", "synflow"]}, "fitness.options.members[1]", "named twice"),
    ({"members": ["synflow", "train"]}, "fitness.options.members[1]", "cannot vote"),
    ({"members": ["synflow", "tabular"]}, "fitness.options.members[1]", "cannot score genomes of the conv"),
    ({"members": ["synflow"]}, "fitness.options.members", "at least 2"),
    ({"refrence": 3}, "fitness.options.refrence", "did you mean 'reference'"),
])
def test_ensemble_options_are_checked_where_they_are_written(tmp_path, options, where, says):
    with pytest.raises(SpecError) as err:
        _spec(tmp_path, {"estimator": "ensemble", "options": options})
    assert where in str(err.value) and says in str(err.value)


def test_proxy_options_are_checked(tmp_path):
    with pytest.raises(SpecError, match=r"fitness.options.batches.*greater than or equal to 2"):
        _spec(tmp_path, {"estimator": "zico", "options": {"batches": 1}})
    # a one-minibatch proxy has no options: one given is a mistake, not silently ignored
    with pytest.raises(SpecError, match=r"fitness.options.batches: unknown option[\s\S]*jacob_cov takes no options"):
        _spec(tmp_path, {"estimator": "jacob_cov", "options": {"batches": 3}})
    assert _spec(tmp_path, {"estimator": "zico", "options": {"batches": 3}}).fitness.options == {"batches": 3}


def test_proxies_fit_the_image_spaces_and_score_an_nb201_genome(tmp_path):
    from genelang.compiler.nb201 import genome_from_key as cell
    from genelang.compiler.printer import format_genome
    from genelang.evolve.estimators import fitting
    from genelang.evolve.execution.evaluation import EvalRequest
    from genelang.evolve.execution.fitness import evaluate
    new = {"jacob_cov", "snip", "grad_norm", "zico", "meco", "macs", "param-count", "naswot", "synflow", "ensemble"}
    assert new <= set(fitting("nb201")) and new <= set(fitting("conv"))
    assert not {"jacob_cov", "zico", "meco", "macs"} & set(fitting("rnn"))
    text = format_genome(cell("333132"))
    results = {est: evaluate(EvalRequest(text, 0, _spec(tmp_path, {"estimator": est}, space={"space": "nb201"})))
               for est in ("zico", "macs", "meco")}
    for est, r in results.items():
        assert r.status == "ok" and math.isfinite(r.fitness), (est, r.reason)
    # nb201 has no cost table: macs is counted on the built network
    assert results["macs"].fitness == results["macs"].metrics["macs"] > results["macs"].metrics["params"]


def test_spec_check_names_an_estimator_measured_below_the_parameter_count(tmp_path):
    import yaml
    from click.testing import CliRunner

    from genelang.cli import cli
    from tests.test_evolve_search import spec_dict
    d = spec_dict(tmp_path)
    for estimator, noted in (("naswot", True), ("synflow", False)):
        d["fitness"] = {"estimator": estimator}
        path = tmp_path / f"{estimator}.yaml"
        path.write_text(yaml.safe_dump(d))
        res = CliRunner().invoke(cli, ["spec", "check", str(path)])
        assert res.exit_code == 0, res.output
        assert ("ranked below the parameter count" in res.output) == noted, res.output
