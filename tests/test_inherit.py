"""Weight inheritance (NASGEP): blocks keyed by cell position and computation,
loaded only where shapes match, and a search that uses a bank deterministically."""
import json
import sqlite3

import pytest
import torch

from genelang.compiler import load_text
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from genelang.runtime import inherit as inh
from genelang.runtime.config import ModelConfig
from genelang.runtime.build import build_model
from tests.test_evolve_search import spec_dict

A = """genome a on conv {
    adf a1         = add sep3x3 dw5x5 | h1 h2 h1 h2
    adf a2         = pw | h1 h2
    cell normal    = add | a1 a2
    cell reduction = add | a1 a2
}
"""
# the same sep3x3(h1) block under another ADF name and position; dw5x5(h2) replaced
B = """genome b on conv {
    adf z0         = isep3x3 | h1 h2
    adf z1         = add dw3x3 sep3x3 | h2 h1 h1 h2
    cell normal    = add | z1 z0
    cell reduction = add | z1 z0
}
"""


def net(text, seed):
    torch.manual_seed(seed)
    genome = load_text(text, "<t>").genomes[0]
    return build_model(genome, ModelConfig("nasgep", C=4, N=1), num_classes=10, input_shape=(1, 8, 8))[0]


def test_blocks_are_keyed_by_cell_and_computation():
    keys = set(inh.blocks(net(A, 0)))
    assert "0:sep3x3(h1)" in keys and "0:dw5x5(h2)" in keys and "0:pw(h1)" in keys
    keys_b = set(inh.blocks(net(B, 0)))
    assert "0:sep3x3(h1)" in keys_b and "0:dw5x5(h2)" not in keys_b
    # pools and skips have no weights; every key names a module with some
    assert all(any(True for _ in m.state_dict()) for m in inh.blocks(net(B, 0)).values())


def test_inherit_loads_only_shared_blocks_with_matching_shapes():
    a, b = net(A, 1), net(B, 2)
    bank = inh.bank_of(a, fitness=0.5)
    before = {k: {n: t.clone() for n, t in m.state_dict().items()} for k, m in inh.blocks(b).items()}
    n = inh.inherit(b, bank)
    shared = set(inh.blocks(a)) & set(inh.blocks(b))
    assert n == len(shared) > 0
    for key, mod in inh.blocks(b).items():
        now = mod.state_dict()
        if key in shared:
            assert all(torch.equal(now[k], bank[key]["state"][k]) for k in now)
        else:
            assert all(torch.equal(now[k], before[key][k]) for k in now)
    wider = net(A.replace("genome a", "genome w"), 3)
    for m in inh.blocks(wider).values():   # same keys, other shapes: nothing loads
        for p in m.parameters():
            p.data = torch.zeros(p.shape[0] + 1, *p.shape[1:])
    assert inh.inherit(wider, bank) == 0


def test_merge_keeps_the_fittest_copy_of_each_block(tmp_path):
    a, b = net(A, 1), net(A, 2)
    bank = inh.bank_of(a, 0.5)
    assert inh.merge(bank, inh.bank_of(b, 0.4)) == 0
    assert inh.merge(bank, inh.bank_of(b, 0.6)) == len(bank)
    inh.save_bank(bank, tmp_path / "bank.pt")
    again = inh.load_bank(tmp_path / "bank.pt")
    assert again.keys() == bank.keys() and all(e["fitness"] == 0.6 for e in again.values())
    assert inh.load_bank(tmp_path / "missing.pt") == {}


def _inherit_spec(tmp_path, name, population=4, mutation=0.044):
    d = spec_dict(tmp_path, name, generations=3)
    d["strategy"].update(population=population, operators={"mutation": mutation})
    d["task"]["subset"] = 128
    d["space"]["adf_functions"] = ["add", "sep3x3", "dw3x3", "pw"]
    d["fitness"] = {"estimator": "train", "epochs": 1, "inherit_weights": True}
    return parse_spec(d)


def test_a_search_inherits_deterministically(tmp_path):
    r1 = run_search(_inherit_spec(tmp_path, "one"))
    r2 = run_search(_inherit_spec(tmp_path, "two"))
    rows = lambda r: list(sqlite3.connect(r.run_dir / "results.sqlite").execute(
        "SELECT generation, genome, fitness, metrics FROM evaluations ORDER BY id"))
    one, two = rows(r1), rows(r2)
    assert [(g, t.split("\n", 1)[1], f) for g, t, f, _ in one] == [(g, t.split("\n", 1)[1], f) for g, t, f, _ in two]
    inherited = [json.loads(m).get("inherited_blocks") for g, _, _, m in one]
    assert all(n == 0 for (g, *_), n in zip(one, inherited) if g == 0)
    assert any(n for (g, *_), n in zip(one, inherited) if g > 0)
    banks = sorted(p.name for p in (r1.run_dir / "weights").iterdir())
    assert banks == ["bank-1.pt", "bank-2.pt"]    # older banks and candidate files are cleaned up


def test_inherit_weights_needs_training(tmp_path):
    from genelang.errors import SpecError
    d = spec_dict(tmp_path)
    d["fitness"]["inherit_weights"] = True
    with pytest.raises(SpecError, match="fitness.inherit_weights"):
        parse_spec(d)


def test_banks_merge_in_generation_order_and_survive_a_rerun(tmp_path):
    from genelang.evolve.execution.weights import WeightBanks
    wb = WeightBanks(tmp_path / "weights")
    assert wb.context(0)["bank"] is None
    out = tmp_path / "weights" / "gen-0"
    inh.save_bank(inh.bank_of(net(A, 1), 0.3), out / "p1.pt")
    inh.save_bank(inh.bank_of(net(A, 2), 0.3), out / "p2.pt")   # a tie: the first one stays
    assert wb.update(0, ["p1", "p2", "p1"]) == len(inh.blocks(net(A, 0)))
    bank = inh.load_bank(wb.bank(0))
    first = inh.bank_of(net(A, 1), 0.3)
    assert all(torch.equal(bank[k]["state"][n], first[k]["state"][n]) for k in bank for n in bank[k]["state"])
    assert not out.exists() and wb.context(1)["bank"] == str(wb.bank(0))
    assert wb.update(0, ["p1"]) == 0                      # a rerun keeps the written bank
    wb.update(1, []), wb.update(2, [])
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == ["bank-1.pt", "bank-2.pt"]


def test_interrupted_and_resumed_inheriting_search_ends_like_an_uninterrupted_one(tmp_path, monkeypatch):
    from genelang.evolve.execution import backends
    from tests.test_evolve_search import final_population

    real, calls = backends.evaluate, []

    def interrupted(request):
        generation = int(request.context.inherit.out.rsplit("-", 1)[1])
        calls.append(generation)
        if generation >= 1 and calls.count(generation) == 2:   # the second candidate of a later generation
            raise KeyboardInterrupt
        return real(request)

    monkeypatch.setattr(backends, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_search(_inherit_spec(tmp_path, "cut", 6, 0.3))
    monkeypatch.undo()
    db = sqlite3.connect(tmp_path / "cut" / "results.sqlite")
    done = db.execute("SELECT MAX(generation) FROM generations").fetchone()[0]
    started = db.execute("SELECT MAX(generation) FROM evaluations").fetchone()[0]
    db.close()
    assert started > done                   # cut inside a generation, with some of it stored
    resumed = run_search(_inherit_spec(tmp_path, "cut", 6, 0.3))
    straight = run_search(_inherit_spec(tmp_path, "straight", 6, 0.3))
    assert final_population(resumed.run_dir) == final_population(straight.run_dir)
    fits = lambda r: sorted(f for (f,) in sqlite3.connect(r.run_dir / "results.sqlite").execute(
        "SELECT fitness FROM evaluations"))
    assert fits(resumed) == fits(straight)


def test_a_worker_that_cannot_see_the_bank_fails_loudly(tmp_path):
    from genelang.evolve.execution.evaluation import EvalContext, EvalRequest, WeightBankRef
    from genelang.evolve.execution.fitness import evaluate
    bank = WeightBankRef(str(tmp_path / "elsewhere" / "bank-0.pt"), str(tmp_path / "gen-1"))
    r = evaluate(EvalRequest(A, 0, _inherit_spec(tmp_path, "remote"), EvalContext(inherit=bank)))
    assert r.status == "failed" and "filesystem every worker shares" in r.reason
