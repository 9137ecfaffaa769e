import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy import stats

from genelang.cli import cli
from genelang.study.compare import compare, entries_from
from genelang.study.stats import cohens_d, holm, pairwise, summarize
from tests.evolve_helpers import fake_fitness

EX = Path(__file__).parents[1] / "examples" / "genotypes"
ROOT = Path(__file__).parents[1]


def test_statistics_match_scipy():
    a, b, c = [0.81, 0.83, 0.80, 0.84, 0.82], [0.78, 0.80, 0.79, 0.77, 0.81], [0.9, 0.7, 0.8, 0.85, 0.75]
    s = summarize("a", a)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=s.mean, scale=stats.sem(a))
    assert math.isclose(s.ci_low, lo) and math.isclose(s.ci_high, hi)
    pairs = {(p.a, p.b): p for p in pairwise({"a": a, "b": b, "c": c})}
    ab = pairs[("a", "b")]
    assert math.isclose(ab.welch_p, stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert math.isclose(ab.mannwhitney_p, stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    raw = [p.welch_p for p in pairs.values()]
    assert [p.welch_p_holm for p in pairs.values()] == holm(raw)
    assert math.isclose(cohens_d(a, b), (sum(a) / 5 - sum(b) / 5) / math.sqrt((stats.tvar(a) + stats.tvar(b)) / 2))


def test_holm_on_a_known_example():
    # p = (0.01, 0.04, 0.03, 0.005) → sorted 0.005·4, 0.01·3, 0.03·2, 0.04·1 with running max
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def counting(calls):
    def ev(text, seed):
        calls.append(seed)
        return fake_fitness(text + str(seed), seed)
    return ev


def test_rerun_with_more_seeds_trains_only_the_new_ones(tmp_path):
    entries = entries_from([EX / "darts_v2.gene", EX / "nasgep_demo.gene"], [])
    calls = []
    r1 = compare(entries, task="digits", seeds=3, out_dir=tmp_path, evaluate=counting(calls),
                 model={"C": 2, "N": 1})
    assert len(calls) == 6 and r1.trained == 6
    r2 = compare(entries, task="digits", seeds=5, out_dir=tmp_path, evaluate=counting(calls),
                 model={"C": 2, "N": 1})
    assert len(calls) == 10 and sorted(calls[6:]) == [3, 3, 4, 4] and r2.reused == 6
    assert all(len(v) == 5 for v in r2.values.values())
    assert r2.values["darts_v2"][:3] == r1.values["darts_v2"]
    assert (tmp_path / "compare.png").exists()


def test_group_comparison_produces_table_and_plot(tmp_path):
    runner = CliRunner()
    spec = ROOT / "examples" / "specs" / "quick.yaml"
    assert runner.invoke(cli, ["sample", str(spec), "--n", "3", "--out", str(tmp_path / "rand")]).exit_code == 0
    assert len(list((tmp_path / "rand").glob("*.gene"))) == 3
    entries = entries_from([], [("random", tmp_path / "rand"), ("searched", EX / "nasgep_demo.gene"),
                                ("darts", EX / "darts_v2.gene")])
    res = compare(entries, task="digits", seeds=2, out_dir=tmp_path / "cmp", evaluate=counting([]),
                  model={"C": 2, "N": 1})
    assert {s.label for s in res.group_summaries} == {"random"}
    assert [s.n for s in res.group_summaries] == [3]
    # single genomes are tested against each other over seeds, and ranked within the group
    assert {(p.a, p.b) for p in res.pairs} == {("searched", "darts")}
    assert {(l, g) for l, g, _ in res.standings} == {("searched", "random"), ("darts", "random")}
    assert all(0 <= share <= 1 for _, _, share in res.standings)
    assert res.plot.exists()


def test_compare_cli_trains_for_real_on_tiny_data(tmp_path):
    res = CliRunner().invoke(cli, ["compare", str(EX / "nasgep_demo.gene"), str(EX / "darts_v2.gene"),
                                   "--task", "digits", "--seeds", "2", "--subset", "300", "--channels", "2",
                                   "--layers", "5", "--out", str(tmp_path), "--json"])   # darts_v2: 5 cells
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data["summaries"]) == 2 and all(0 <= s["mean"] <= 1 for s in data["summaries"])
    assert data["pairs"][0]["welch_p_holm"] is None or 0 <= data["pairs"][0]["welch_p_holm"] <= 1
    assert data["trained"] == 4


def test_no_interval_from_two_seeds_and_accuracy_intervals_stay_in_0_1():
    s = summarize("a", [0.2, 0.2 + 0.55])          # n = 2: t = 12.7, the old CI was [-3.3, 4.3]
    assert math.isnan(s.ci_low) and math.isnan(s.ci_high) and s.n == 2
    s = summarize("b", [0.99, 1.0, 0.90], bounds=(0.0, 1.0))
    assert 0 <= s.ci_low <= s.mean <= s.ci_high == 1.0
    assert summarize("c", [0.99, 1.0, 0.90]).ci_high > 1   # unbounded values keep the t interval


def test_compare_with_two_seeds_says_there_is_no_interval(tmp_path, monkeypatch):
    import genelang.study.compare as cmp
    real = cmp.compare
    monkeypatch.setattr(cmp, "compare", lambda entries, **kw: real(entries, evaluate=counting([]), **kw))
    res = CliRunner().invoke(cli, ["compare", str(EX / "nasgep_demo.gene"), str(EX / "darts_v2.gene"),
                                   "--task", "digits", "--seeds", "2", "--channels", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "no 95% CI" in res.output and "n < 3" in res.output


def test_the_same_file_twice_is_an_error_not_a_group(tmp_path):
    with pytest.raises(Exception) as err:
        entries_from([EX / "nasgep_demo.gene", EX / "nasgep_demo.gene"], [])
    assert "given twice" in str(err.value)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "nasgep_demo.gene").write_text((EX / "darts_v2.gene").read_text())
    with pytest.raises(Exception) as err:
        entries_from([EX / "nasgep_demo.gene", tmp_path / "other" / "nasgep_demo.gene"], [])
    assert "both labelled 'nasgep_demo'" in str(err.value)
    res = CliRunner().invoke(cli, ["compare", str(EX / "nasgep_demo.gene"), str(EX / "nasgep_demo.gene"),
                                   "--task", "digits", "--out", str(tmp_path / "c")])
    assert res.exit_code == 2 and "given twice" in res.output
