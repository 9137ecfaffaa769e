"""The supernet estimator's recipes from `fitness.options` (issue 23):
checkpoint ensembles and few-shot sub-supernets, on tiny written data."""
import sqlite3
from types import SimpleNamespace

import pytest
import torch

from genelang.compiler import load_text
from genelang.compiler.nb201 import OPS, genome_from_key
from genelang.compiler.template import Template
from genelang.errors import SpecError
from genelang.evolve.estimators import supernet as estimator
from genelang.evolve.estimators.oneshot import build_supernet
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from genelang.runtime.supernet import SupernetTraining, Uniform, recalibrate_bn, train_supernet
from genelang.runtime.supernet.fewshot import route
from genelang.runtime.supernet.train import ensemble_steps, load_snapshot
from tests.supernet_helpers import TASK
from tests.test_evolve_search import spec_dict

pytestmark = pytest.mark.usefixtures("one_thread")


def nb201_spec(tmp_path, name, options, **supernet):
    d = spec_dict(tmp_path, name, population=4, generations=1)
    d["task"] = {"name": "digits", "subset": 128, "batch_size": 16}
    d["space"] = {"space": "nb201"}
    d["fitness"] = {"estimator": "supernet", "options": options}
    d["supernet"] = {"steps": 2, "checkpoint_every": 1, "bn_batches": 1, "val_samples": 32, **supernet}
    return d


def _stored(run_dir):
    db = sqlite3.connect(run_dir / "results.sqlite")
    return [(load_text(g).genomes[0], f) for g, f in db.execute("SELECT genome, fitness FROM evaluations WHERE status='ok'")]


def _accuracy_with(spec, state: dict, genome) -> float:
    """A candidate's accuracy through a supernet holding `state`, scored as the estimator scores it."""
    net = build_supernet(spec)
    net.load_state_dict(state)
    # the data the estimator scores with: the run's seeded BN batches and validation images
    c = SimpleNamespace(spec=spec, task=spec.configs()[0], context=SimpleNamespace(device="cpu"))
    bn, x, y = estimator._scoring_data(c, torch.contiguous_format)
    with torch.inference_mode():
        path = recalibrate_bn(net.path(genome), bn)
        return (path(x).argmax(1) == y).float().mean().item()


def test_ensemble_steps_are_the_stop_and_the_checkpoints_below_it():
    assert ensemble_steps(6, 2, 3) == [6, 4, 2]
    assert ensemble_steps(7, 3, 3) == [7, 6, 3]
    assert ensemble_steps(4, 2, 5) == [4, 2]          # fewer where there are not k
    assert ensemble_steps(9, 3, 1) == [9]


def test_training_keeps_the_models_of_the_last_k_checkpoints(tmp_path):
    from tests.test_supernet import tiny
    shape = tiny()[2]
    torch.manual_seed(0)
    from genelang.runtime.supernet import Supernet
    net = Supernet(shape)
    cfg = SupernetTraining(steps=6, lr=0.1, batch_size=16, checkpoint_every=2, seed=5)
    train_supernet(net, Uniform(shape), TASK, cfg, tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.glob("model-*.pt")) == ["model-4.pt", "model-6.pt"]
    final = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["model"]
    kept4, kept6 = load_snapshot(tmp_path, 4), load_snapshot(tmp_path, 6)
    assert all(torch.equal(final[k], kept6[k]) for k in final)
    assert any(not torch.equal(final[k], kept4[k]) for k in final)


def test_an_ensemble_scores_the_mean_accuracy_over_its_checkpoints(tmp_path):
    spec = parse_spec(nb201_spec(tmp_path, "ens", {"ensemble": 2}))
    result = run_search(spec)
    sn = result.run_dir / "supernet"
    for genome, fitness in _stored(result.run_dir):
        accs = [_accuracy_with(spec, load_snapshot(sn, s), genome) for s in (2, 1)]
        assert fitness == pytest.approx(sum(accs) / 2)
    assert len({f for _, f in _stored(result.run_dir)}) > 1


def test_few_shot_scores_each_cell_with_the_sub_supernet_of_its_edge_operation(tmp_path):
    options = {"few_shot": {"gene": "n1", "position": 0, "steps": 1}}
    spec = parse_spec(nb201_spec(tmp_path, "few", options))
    result = run_search(spec)
    sn = result.run_dir / "supernet"
    parts = {op: torch.load(sn / f"split-{op}" / "checkpoint.pt", weights_only=True) for op in OPS}
    assert all(p["step"] == 1 for p in parts.values())
    whole = torch.load(sn / "checkpoint.pt", weights_only=True)["model"]
    slots = Template.from_spec(spec.space).slots
    for genome, fitness in _stored(result.run_dir):
        op = OPS[route(slots, 0, 0, genome)]                       # n1's only operation: edge 0→1
        assert genome.genes[0].head[0] == op
        assert fitness == pytest.approx(_accuracy_with(spec, parts[op]["model"], genome))
    # each part was fine-tuned from the whole supernet on its own cells only
    k = next(k for k in whole if k.endswith("weight") and "e01_nor_conv_3x3" in k)
    assert not torch.equal(parts["nor_conv_3x3"]["model"][k], whole[k])
    assert torch.equal(parts["none"]["model"][k], whole[k])       # no cell of that part runs the block


def test_route_picks_the_part_of_the_genomes_symbol():
    slots = Template.from_spec(type("S", (), {"space": "nb201"})()).slots
    assert [route(slots, 0, 0, genome_from_key(f"{i}00000")) for i in range(5)] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("options, where, says", [
    ({"ensemble": 0}, "fitness.options.ensemble", "greater than or equal to 1"),
    ({"ensembel": 2}, "fitness.options.ensembel", "unknown option"),
    ({"ensemble": 4}, "fitness.options.ensemble", "makes 2 checkpoint(s), not 4"),
    ({"few_shot": {"gene": "n9", "position": 0, "steps": 2}}, "fitness.options.few_shot.gene", "no gene 'n9'"),
    ({"few_shot": {"gene": "n1", "position": 1, "steps": 2}}, "fitness.options.few_shot.position",
     "not one the search varies"),
    ({"few_shot": {"gene": "n1", "position": 0}}, "fitness.options.few_shot", "required"),
])
def test_spec_check_locates_a_bad_supernet_option(tmp_path, options, where, says):
    with pytest.raises(SpecError) as err:
        parse_spec(nb201_spec(tmp_path, "bad", options))
    assert where in str(err.value) and says in str(err.value), str(err.value)


def test_few_shot_and_alternation_are_refused_together(tmp_path):
    d = nb201_spec(tmp_path, "alt", {"few_shot": {"gene": "n2", "position": 1, "steps": 2}}, steps_per_generation=2)
    with pytest.raises(SpecError) as err:
        parse_spec(d)
    assert "fitness.options.few_shot" in str(err.value) and "steps_per_generation" in str(err.value)
