"""`genelang compile DIR` ships the network `genelang train --out DIR` trained:
its weights, built as training built it."""
import json
from pathlib import Path

import torch
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import load_file
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.task_data import sample_batch
from genelang.runtime.train import train_genome

EX = Path(__file__).parents[1] / "examples" / "genotypes"


def _load_script(path):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.load(str(path))


def test_compile_a_trained_image_network(tmp_path):
    genome = load_file(EX / "nasgep_demo.gene").genomes[0]
    task = TaskConfig("digits", subset=200)
    result = train_genome(genome, task, ModelConfig(C=4), epochs=1, out_dir=tmp_path / "run")
    x = sample_batch(task)[0][:8]
    trained = result.model.eval()(x)
    runner = CliRunner()
    res = runner.invoke(cli, ["compile", str(tmp_path / "run"), "--to", "torchscript"])
    assert res.exit_code == 0, res.output
    shipped = _load_script(tmp_path / "run" / "nasgep_demo.pt")
    # the shipped network takes the raw [0, 1] image and standardises it itself
    stats = json.loads((tmp_path / "run" / "metrics.json").read_text())["preprocess"]
    raw = x * torch.tensor(stats["std"]).view(1, -1, 1, 1) + torch.tensor(stats["mean"]).view(1, -1, 1, 1)
    assert 0 <= raw.min() and raw.max() <= 1 + 1e-5
    assert torch.allclose(shipped(raw), trained, atol=1e-5)
    fresh = runner.invoke(cli, ["compile", str(EX / "nasgep_demo.gene"), "--to", "torchscript", "-o",
                                str(tmp_path / "fresh.pt"), "--channels", "4", "--input-shape", "1,8,8"])
    assert fresh.exit_code == 0
    assert not torch.allclose(_load_script(tmp_path / "fresh.pt")(raw), trained, atol=1e-3)
    res = runner.invoke(cli, ["compile", str(tmp_path / "run"), "--to", "summary"])
    assert res.exit_code == 0 and "input 1,8,8" in res.output
    res = runner.invoke(cli, ["compile", str(tmp_path / "run"), "--to", "torchscript", "--channels", "8"])
    assert res.exit_code == 2 and "shape comes from its directory" in res.output


def test_compile_a_trained_sequence_model_and_bad_directories(tmp_path):
    genome = load_file(EX / "gru.gene").genomes[0]
    task = TaskConfig("forecast")
    result = train_genome(genome, task, ModelConfig(hidden=8), epochs=1, out_dir=tmp_path / "gru")
    res = CliRunner().invoke(cli, ["compile", str(tmp_path / "gru"), "--to", "torchscript",
                                   "-o", str(tmp_path / "gru.pt")])
    assert res.exit_code == 0, res.output
    x = sample_batch(task)[0][:4]
    assert torch.allclose(_load_script(tmp_path / "gru.pt")(x), result.model.eval()(x), atol=1e-5)
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(cli, ["compile", str(tmp_path / "empty"), "--to", "torchscript"])
    assert res.exit_code == 2 and "no metrics.json" in res.output
    (tmp_path / "gru" / "genome.gene").write_text((EX / "lstm.gene").read_text())
    res = CliRunner().invoke(cli, ["compile", str(tmp_path / "gru"), "--to", "torchscript"])
    assert res.exit_code == 2 and "does not fit genome" in res.output


def test_train_with_a_search_spec_then_ship(tmp_path):
    import json

    import yaml
    spec = {"run": {"name": "s", "out": str(tmp_path / "run")}, "task": {"name": "digits", "subset": 100},
            "space": {"space": "conv", "adfs": 3, "adf_head": 2, "main_head": 2},
            "model": {"skeleton": "nasgep", "C": 4, "N": 1}, "fitness": {"lr": 0.2}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    runner = CliRunner()
    res = runner.invoke(cli, ["train", str(EX / "nasgep_demo.gene"), "--spec", str(tmp_path / "spec.yaml"),
                              "--subset", "300", "--out", str(tmp_path / "t"), "--json"])
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert saved["task"]["name"] == "digits" and saved["task"]["subset"] == 300   # the option wins
    assert saved["model"]["C"] == 4 and saved["model"]["skeleton"] == "nasgep"     # from the spec
    assert saved["lr"] == 0.2
    res = runner.invoke(cli, ["compile", str(tmp_path / "t"), "--to", "summary"])
    assert res.exit_code == 0 and "input 1,8,8" in res.output
    res = runner.invoke(cli, ["train", str(EX / "nasgep_demo.gene"), "--spec", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "cannot read spec" in res.output
