"""The ENAS-style controller strategy: it learns a planted optimum, its entropy
bonus holds the policy open, a resumed run replays to the same policy, and its
options are checked at their spec path."""
import random
from dataclasses import replace

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import load_text
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from genelang.evolve.strategies import make_strategy
from genelang.compiler.template import Template
from tests.test_evolve_search import genomes_in_order, spec_dict

# convs first: the planted genome (every free position at its domain's first
# symbol) reduces in the reduction cell, so it is valid
FUNCTIONS = ["sep3x3", "max_pool_3x3", "add"]


def controller_spec(tmp_path, name="c", generations=4, **options):
    d = spec_dict(tmp_path, name, "controller", generations=generations, population=8, options=options)
    d["space"]["adf_functions"] = FUNCTIONS
    return parse_spec(d)


def make(tmp_path, **options):
    spec = controller_spec(tmp_path, **options)
    return make_strategy(spec, Template.from_spec(spec.space))


def planted(c, syms) -> float:
    """The fraction of free positions holding their domain's first symbol."""
    return float((c.positions.choices(syms) == 0).mean())


def train(c, generations: int, reward, seed: int = 0) -> list[float]:
    """Generations of samples scored by `reward(syms)`; each generation's mean reward."""
    rng, means = random.Random(seed), []
    for _ in range(generations):
        done = [replace(m, objectives=(reward(m.lists()),)) for m in c.propose([], rng)]
        c.observe(done)
        means.append(float(np.mean([m.objectives[0] for m in done])))
    return means


def draws(c, n: int = 200, seed: int = 1) -> np.ndarray:
    rng = random.Random(seed)
    return np.stack([c.positions.choices(c.sample(rng)) for _ in range(n)])


def entropy(c) -> float:
    with torch.no_grad():
        return float(c.policy.log_prob_and_entropy(torch.as_tensor(draws(c)))[1].mean())


@pytest.mark.parametrize("policy", ["independent", "lstm"])
def test_the_policy_moves_toward_a_planted_best_symbol(tmp_path, policy):
    torch.set_num_threads(1)
    c = make(tmp_path, policy=policy)
    before = (draws(c, 100) == 0).mean(axis=0)    # uniform, but for the genomes the checker rejects
    means = train(c, 30, lambda s: planted(c, s))
    after = (draws(c, 100) == 0).mean(axis=0)
    assert (after > before + 0.1).all() and (after - before).mean() > 0.3, (after, before)
    assert np.mean(means[-3:]) > means[0] + 0.3


def test_a_large_entropy_bonus_keeps_the_policy_open(tmp_path):
    torch.set_num_threads(1)
    noise = np.random.default_rng(0)
    open_, greedy = make(tmp_path, entropy=1.0), make(tmp_path, entropy=0.0)
    for c in (open_, greedy):
        train(c, 30, lambda s: planted(c, s) + 0.3 * noise.normal())
    assert entropy(open_) > entropy(greedy) + 3


@pytest.mark.parametrize("policy", ["independent", "lstm"])
def test_observing_the_history_in_pieces_gives_the_same_policy(tmp_path, policy):
    torch.set_num_threads(1)
    teacher = make(tmp_path)
    rng, history = random.Random(0), []
    for g in range(6):
        history += [replace(m, objectives=(planted(teacher, m.lists()) if i % 5 else float("-inf"),))
                    for i, m in enumerate(teacher.propose([], rng))]
    once, pieces = make(tmp_path, policy=policy), make(tmp_path, policy=policy)
    once.observe(history)
    pieces.observe(history[:19])
    pieces.observe(history[19:])
    assert once.rewards == pieces.rewards and len(once.rewards) > 20
    for a, b in zip(once.policy.parameters(), pieces.policy.parameters()):
        assert torch.equal(a, b)
    assert any(p.abs().sum() > 0 for p in once.policy.parameters())


def test_a_resumed_search_proposes_what_the_uninterrupted_one_did(tmp_path):
    evaluate = _planted_fitness(controller_spec(tmp_path))
    whole = run_search(controller_spec(tmp_path, "whole", generations=5), evaluate=evaluate)
    run_search(controller_spec(tmp_path, "split", generations=2), evaluate=evaluate)
    split = run_search(controller_spec(tmp_path, "split", generations=5), evaluate=evaluate)
    assert genomes_in_order(split.run_dir) == genomes_in_order(whole.run_dir)


def _planted_fitness(spec):
    c = make_strategy(spec, Template.from_spec(spec.space))

    def fitness(text, seed):
        genome = load_text(text, "<candidate>").genomes[0]
        return {"status": "ok", "fitness": planted(c, c.t.symbols(genome))}
    return fitness


def test_a_controller_search_improves_on_a_planted_fitness(tmp_path):
    spec = controller_spec(tmp_path, "run", generations=12)
    result = run_search(spec, evaluate=_planted_fitness(spec))
    import sqlite3
    db = sqlite3.connect(result.run_dir / "results.sqlite")
    by_gen = dict(db.execute("SELECT generation, AVG(fitness) FROM evaluations GROUP BY generation"))
    assert by_gen[11] > by_gen[0] + 0.2
    assert result.best_fitness >= max(by_gen.values())


def test_the_sampler_draws_one_valid_genome_per_group_from_the_rng(tmp_path):
    c = make(tmp_path)
    group = c.next_group(random.Random(5))
    assert len(group) == 1 and c.t.is_valid(group[0])
    assert group == c.next_group(random.Random(5)) and group == [c.sample(random.Random(5))]


@pytest.mark.parametrize("options, path, words", [
    ({"entropy": -1}, "strategy.options.entropy", "greater than or equal to 0"),
    ({"polcy": "lstm"}, "strategy.options.polcy", "did you mean 'policy'?"),
    ({"penalty": "worse"}, "strategy.options.penalty", "'worst' (the worst reward so far) or 'skip'"),
])
def test_a_bad_option_is_a_spec_error_at_its_path(tmp_path, options, path, words):
    d = spec_dict(tmp_path, "bad", "controller", options=options)
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(cli, ["spec", "check", str(spec)])
    assert res.exit_code == 2, res.output
    assert path in res.output and words in res.output
    assert "Traceback" not in res.output
