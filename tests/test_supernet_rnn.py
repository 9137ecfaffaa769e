"""The rnn space's supernet: a path computes what the compiled cell computes
with the same weights; truncated BPTT carries the hidden state across batches
and detaches it; perplexity falls; a controller search over rnn genomes
scores them by supernet perplexity (fitness minus it, `val_ppl` stored)."""
import json
import random
import sqlite3
from pathlib import Path

import pytest
import torch

from genelang.compiler.lower_rnn import lower_rnn_cell
from genelang.compiler import load_file
from genelang.compiler.template import Template
from genelang.errors import SpecError
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import SpaceSpec, parse_spec
from genelang.runtime.sequence import build_sequence_model
from genelang.runtime.supernet import Uniform, train_supernet
from genelang.runtime.supernet.rnn import RnnSupernet
from genelang.runtime.tbptt import TBPTT, Streams, init_lm, perplexity, run_lm, train_alone
from tests.test_evolve_search import spec_dict

pytestmark = pytest.mark.usefixtures("one_thread")

V, H = 23, 8

def lstm():
    return load_file(Path(__file__).parent.parent / "examples" / "genotypes" / "lstm.gene").genomes[0]


def template(states=("h", "c")) -> Template:
    return Template.from_spec(SpaceSpec(space="rnn", states=list(states), adfs=2, adf_head=3, main_head=4))


def supernet(share="position", layers=1, **kw) -> RnnSupernet:
    torch.manual_seed(0)
    return RnnSupernet(template(), V, H, layers, share=share, **kw)


def genomes(net, n=6, seed=0):
    rng = random.Random(seed)
    return [net.shape.genome(net.shape.random_genome(rng)) for _ in range(n)]


@pytest.mark.parametrize("share,layers", [("position", 1), ("gene", 2), ("cell", 1)])
def test_a_path_computes_what_the_compiled_network_computes_with_its_weights(share, layers):
    net = supernet(share, layers)
    x = torch.randint(0, V, (3, 5))
    for g in genomes(net):
        path = net.path(g).eval()
        alone = build_sequence_model(g, head="lm", vocab_size=V, embed_dim=H, hidden=H, layers=layers,
                                     tie_weights=True).eval()
        alone.load_state_dict(path.state_dict())
        assert torch.allclose(alone(x), path(x), atol=1e-6)
        cell = lower_rnn_cell(g, H, H)      # the compiled cell alone, one step
        cell.load_state_dict(path.rnn[0].forward_dir.cell.state_dict())
        h = torch.randn(3, H)
        states = [torch.randn(3, H), torch.randn(3, H)]
        for a, b in zip(cell(h, states), path.rnn[0].forward_dir.cell(h, states)):
            assert torch.allclose(a, b, atol=1e-6)


def test_paths_share_the_supernets_weights_and_differ_in_what_they_run():
    net = supernet()
    own = {id(p) for p in net.parameters()}
    paths = [net.path(g) for g in genomes(net)]
    assert all(id(p) in own for m in paths for p in m.parameters())
    assert len({frozenset(m.state_dict()) for m in paths}) > 1
    weighted = {k.rsplit("/", 1)[-1] for k in net.blocks}
    assert weighted == {"linear", "cat_linear", "layer_norm"}     # the other ops have no weights


def test_a_genome_of_another_template_is_refused_by_name():
    net = RnnSupernet(template(("h",)), V, H)
    with pytest.raises(KeyError, match="not of its space"):
        net.path(lstm())


def test_streams_continue_each_other_across_segments():
    tokens = torch.arange(10 * 4).view(10, 4)        # windows of 4 consecutive tokens
    s = Streams.of(tokens, tokens + 1, batch=2)
    assert s.x.shape == (5, 2, 4)
    for k in range(4):
        assert torch.equal(s.x[k + 1][:, 0], s.x[k][:, -1] + 1)   # the next window of the same stream


def test_truncated_bptt_carries_the_state_and_cuts_the_gradient_at_the_boundary():
    torch.manual_seed(0)
    model = init_lm(build_sequence_model(lstm(), head="lm", vocab_size=V, embed_dim=H, hidden=H,
                                         tie_weights=True))
    tokens = torch.randint(0, V, (8, 5))
    streams = Streams.of(tokens, torch.roll(tokens, -1), batch=2)
    objective = TBPTT(streams)
    objective.step([model], 0)
    carried = objective.states
    _, ends = run_lm(model, streams.x[0], None)
    assert all(not s.requires_grad for layer in carried for s in layer)
    assert all(torch.equal(a, b.detach()) for a, b in zip(carried[0], ends[0]))   # the values carry

    model.zero_grad()
    objective.step([model], 1)
    truncated = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    logits, _ = run_lm(model, streams.x[1], carried)        # the carried state as a constant
    torch.nn.functional.cross_entropy(logits.reshape(-1, V), streams.y[1].reshape(-1)).backward()
    assert all(torch.allclose(a, p.grad) for a, p in zip(truncated, model.parameters()))
    model.zero_grad()
    _, ends = run_lm(model, streams.x[0], None)              # full BPTT through both segments differs
    logits, _ = run_lm(model, streams.x[1], ends)
    torch.nn.functional.cross_entropy(logits.reshape(-1, V), streams.y[1].reshape(-1)).backward()
    assert not all(torch.allclose(a, p.grad) for a, p in zip(truncated, model.parameters()))
    with_state = run_lm(model.eval(), streams.x[1], carried)[0]
    assert not torch.allclose(with_state, run_lm(model, streams.x[1], None)[0])   # the state matters


def test_perplexity_falls_in_a_tiny_run():
    torch.manual_seed(0)
    train, val = cycle_streams()
    model = init_lm(build_sequence_model(lstm(), head="lm", vocab_size=V, embed_dim=H, hidden=H,
                                         tie_weights=True))
    before = perplexity(model, val)
    after = train_alone(model, train, val, steps=40, lr=0.5)
    assert after < before / 3, (before, after)


def lm_spec(tmp_path, name, **over):
    d = spec_dict(tmp_path, name, population=4, generations=2)
    d["task"] = {"name": "lm", "subset": 40, "batch_size": 4}
    d["space"] = {"space": "rnn", "states": ["h"], "adfs": 1, "adf_head": 2, "main_head": 3}
    d["model"] = {"hidden": 8, "dropout": 0.1}
    d["strategy"] = {"name": "controller", "population": 4, "generations": 2}
    d["fitness"] = {"estimator": "supernet"}
    d["supernet"] = {"steps": 6, "steps_per_generation": 3, "lr": 0.5, "checkpoint_every": 3, "val_samples": 8}
    d.update(over)
    return parse_spec(d)


@pytest.fixture(scope="module")
def lm_search(tmp_path_factory):
    torch.set_num_threads(1)
    spec = lm_spec(tmp_path_factory.mktemp("lm"), "search")
    return spec, run_search(spec)


def test_a_controller_searches_rnn_genomes_by_supernet_perplexity(lm_search):
    _, result = lm_search
    db = sqlite3.connect(result.run_dir / "results.sqlite")
    rows = list(db.execute("SELECT status, fitness, metrics FROM evaluations"))
    assert len(rows) >= 4 and all(status == "ok" for status, *_ in rows)
    for _, fitness, metrics in rows:
        m = json.loads(metrics)
        assert m["val_ppl"] > 1 and fitness == pytest.approx(-m["val_ppl"])   # minus the perplexity
        assert "val_acc" not in m
    saved = torch.load(result.run_dir / "supernet" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 6 + 3                   # warm-up, then one alternation segment
    assert saved["objective"]["states"] is not None  # the carried state is checkpointed


def test_the_rnn_supernet_trains_only_a_language_model(tmp_path):
    with pytest.raises(SpecError) as err:
        lm_spec(tmp_path, "bad", task={"name": "text-classification"})
    assert "task.name" in str(err.value) and "language model" in str(err.value)


def cycle_streams():
    """A cycle of 7 tokens a recurrent model can learn: (train, val) streams."""
    text = torch.tensor([i % 7 for i in range(2 * 40 * 6 + 1)])
    x, y = text[:-1].view(-1, 6), text[1:].view(-1, 6)
    return Streams.of(x[:60], y[:60], 4), Streams.of(x[60:], y[60:], 4)


def test_supernet_training_lowers_a_paths_perplexity(tmp_path):
    from genelang.runtime.config import TaskConfig
    from genelang.runtime.supernet import SupernetTraining
    train, val = cycle_streams()
    net = supernet()
    net.objective = lambda task, batch_size, seed: TBPTT(train, 0.1, seed)   # the cycle, not the wiki text
    g = genomes(net, 1)[0]
    before = perplexity(net.path(g), val)
    cfg = SupernetTraining(steps=60, lr=0.5, grad_clip=0.25)
    train_supernet(net, Uniform(net.shape), TaskConfig("lm"), cfg, tmp_path)
    assert perplexity(net.path(g), val) < before / 2


def test_the_controller_study_compares_untrained_and_trained_samples(lm_search, tmp_path):
    from genelang.evolve.search import replayed_strategy
    from genelang.evolve.strategies import make_strategy
    from genelang.study.controller_study import controller_study, density_plot, summarize
    spec, result = lm_search
    fresh = make_strategy(spec, Template.from_spec(spec.space))
    trained = replayed_strategy(spec, result.run_dir)
    assert len(trained.rewards) == result.evaluations and not fresh.rewards   # replayed, then learned from
    rows = controller_study(spec, result.run_dir, 3, steps=1, lr=0.5)
    assert [r.group for r in rows] == ["untrained", "trained"] * 3
    assert all(r.standalone_ppl > 1 and r.supernet_ppl > 1 for r in rows)
    # a study extended from its second pair on trains what the longer run trained there
    assert controller_study(spec, result.run_dir, 3, steps=1, lr=0.5, start=1) == rows[2:]
    stats = summarize(rows)
    assert set(stats["groups"]) == {"untrained", "trained"} and -1 <= stats["tau"] <= 1
    assert 0 <= stats["mannwhitney_p"] <= 1
    assert density_plot(rows, tmp_path / "d.png").stat().st_size > 0
