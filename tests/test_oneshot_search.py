"""A one-shot search end to end: the supernet trains before generation 0, the
candidates are scored through it, and the run is deterministic and resumes."""
import json
import sqlite3

import pytest
import torch

from genelang.errors import SpecError
from genelang.evolve.run.identity import differing_keys
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import Spec, parse_spec
from tests.test_evolve_search import genomes_in_order, spec_dict


pytestmark = pytest.mark.usefixtures("one_thread")


def oneshot(tmp_path, name, generations=3, **supernet):
    d = spec_dict(tmp_path, name, population=12, generations=generations)
    d["task"] = {"name": "digits", "subset": 256, "batch_size": 32}
    d["space"]["adf_functions"] = ["add", "sep3x3", "dw3x3", "pw", "max_pool_3x3", "skip_connect"]
    d["fitness"] = {"estimator": "supernet"}
    d["supernet"] = {"steps": 6, "checkpoint_every": 3, "bn_batches": 2, "val_samples": 64, **supernet}
    return parse_spec(d)


def body(genome_text: str) -> str:
    return genome_text.split("\n", 1)[1]     # the genes, not the genome's (run's) name


def _scores(run_dir):
    db = sqlite3.connect(run_dir / "results.sqlite")
    return [r for r in db.execute("SELECT phenotype, status, fitness FROM evaluations ORDER BY id")]


def test_a_one_shot_search_scores_its_candidates_through_the_trained_supernet(tmp_path):
    a = run_search(oneshot(tmp_path, "a"))
    rows = _scores(a.run_dir)
    assert len(rows) >= 20 and all(status == "ok" for _, status, _ in rows)
    assert len({f for *_, f in rows}) > 3                          # the paths differ
    saved = torch.load(a.run_dir / "supernet" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 6
    b = run_search(oneshot(tmp_path, "b"))
    assert (body(b.best_genome), b.best_fitness) == (body(a.best_genome), a.best_fitness)
    assert _scores(b.run_dir) == rows


def test_a_one_shot_search_resumes_without_training_its_supernet_again(tmp_path):
    whole = run_search(oneshot(tmp_path, "whole", sampling="strict-fair"))
    run_search(oneshot(tmp_path, "part", generations=2, sampling="strict-fair"))
    ckpt = tmp_path / "part" / "supernet" / "checkpoint.pt"
    before = ckpt.stat().st_mtime_ns
    part = run_search(oneshot(tmp_path, "part", sampling="strict-fair"))
    assert ckpt.stat().st_mtime_ns == before
    assert genomes_in_order(part.run_dir) == genomes_in_order(whole.run_dir)
    assert _scores(part.run_dir) == _scores(whole.run_dir)


def test_spec_check_names_the_supernet_keys_it_refuses(tmp_path):
    d = oneshot(tmp_path, "bad").model_dump()
    d["supernet"].update(sampling="fair", steps=0)
    with pytest.raises(SpecError) as err:
        parse_spec(d)
    assert "supernet.steps" in str(err.value)
    d["supernet"]["steps"] = 5
    d["model"]["skeleton"] = "nb201"
    with pytest.raises(SpecError) as err:
        parse_spec(d)
    assert "supernet.sampling" in str(err.value) and "strict-fair" in str(err.value)
    assert "model.skeleton" in str(err.value)


def test_a_run_stored_before_the_supernet_section_existed_resumes():
    current = Spec().model_dump()
    stored = {k: v for k, v in current.items() if k != "supernet"}
    assert differing_keys(stored, current, Spec().model_dump()) == []
    changed = Spec(supernet={"steps": 5}).model_dump()
    assert differing_keys(stored, changed, Spec().model_dump()) == ["supernet.steps"]


def test_retrain_top_trains_the_fittest_again_and_stores_both_numbers(tmp_path, monkeypatch):
    spec = oneshot(tmp_path, "re", generations=1).model_dump()
    spec["strategy"]["population"] = 4
    spec["fitness"]["retrain_top"] = 2
    result = run_search(parse_spec(spec))
    assert len(result.retrained) == 2 and result.retrained[0].fitness == result.best_fitness
    db = sqlite3.connect(result.run_dir / "results.sqlite")
    stored = {i: json.loads(m) for i, m in db.execute("SELECT id, metrics FROM evaluations")}
    for r in result.retrained:
        assert 0 <= stored[r.id]["retrained_fitness"] == r.retrained_fitness <= 1
    assert sum("retrained_fitness" in m for m in stored.values()) == 2
    pick = max(result.retrained, key=lambda r: r.retrained_fitness)
    written = (result.run_dir / "best_retrained.gene").read_text()
    assert f"retrained fitness {pick.retrained_fitness:.6g}" in written
    assert db.execute("SELECT genome FROM evaluations WHERE id = ?", (pick.id,)).fetchone()[0] in written
    def no_training(*a, **kw):
        raise AssertionError("retrained twice")
    monkeypatch.setattr("genelang.evolve.run.runs.retrain", no_training)
    again = run_search(parse_spec(spec))        # resumed: kept, not trained again
    assert again.retrained == result.retrained


def test_the_controller_alternates_with_supernet_training_and_resumes_to_the_same_run(tmp_path, monkeypatch):
    from genelang.evolve.strategies.controller import Controller
    from genelang.evolve.search import Search

    def controlled(name):
        spec = oneshot(tmp_path, name, steps_per_generation=2)
        return spec.model_copy(update={"strategy": spec.strategy.model_copy(update={"name": "controller"})})

    drawn = []
    monkeypatch.setattr(Controller, "next_group", lambda self, rng: drawn.append(1) or [self.sample(rng)])
    whole = run_search(controlled("whole"))
    saved = torch.load(whole.run_dir / "supernet" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 6 + 2 * 2                 # steps, then 2 more before generations 1 and 2
    assert len(drawn) == 4                            # those 4 steps trained paths the controller drew

    real_save = Search._save

    def killed_after_generation_1(self, g, pop):
        real_save(self, g, pop)
        if g == 1:
            raise KeyboardInterrupt
    monkeypatch.setattr(Search, "_save", killed_after_generation_1)
    with pytest.raises(KeyboardInterrupt):
        run_search(controlled("part"))
    monkeypatch.setattr(Search, "_save", real_save)
    part = run_search(controlled("part"))
    assert _scores(part.run_dir) == _scores(whole.run_dir)
    with pytest.raises(SpecError, match="strategy.generations"):
        spec = controlled("part")
        run_search(spec.model_copy(update={"strategy": spec.strategy.model_copy(update={"generations": 4})}))


def test_the_supernet_trains_with_the_specs_threads(tmp_path, monkeypatch):
    # more OpenMP threads than the cores left to the search run many times slower
    import genelang.evolve.estimators.oneshot as oneshot_mod
    seen, real = [], oneshot_mod.train_supernet

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(oneshot_mod, "train_supernet", spy)
    spec = oneshot(tmp_path, "threads", generations=1)
    spec = spec.model_copy(update={"execution": spec.execution.model_copy(update={"threads": 2})})
    run_search(spec)
    assert seen == [2]


def test_a_shared_supernet_reports_the_stand_alone_networks_parameters(tmp_path):
    # with share: gene a path may run one block twice; `params` must still be the compiled network's
    from genelang.compiler import load_text
    from genelang.runtime.networks import build_network
    spec = oneshot(tmp_path, "shared", generations=1, share="gene")
    run_search(spec)
    _, model = spec.configs()
    db = sqlite3.connect(tmp_path / "shared" / "results.sqlite")
    rows = list(db.execute("SELECT genome, metrics FROM evaluations"))
    assert rows
    for text, metrics in rows:
        net = build_network(load_text(text).genomes[0], model.skeleton, C=model.C, N=model.N,
                            layers=model.layers, in_channels=1)
        assert json.loads(metrics)["params"] == sum(p.numel() for p in net.parameters())
