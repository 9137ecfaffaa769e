"""Shipping a network: compile_genome's targets never collide, take raw input
(the training normalisation inside), accept any batch size, and text networks
bring their vocabulary."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import load_file
from genelang.errors import GenelangError
from genelang.runtime import export
from genelang.runtime.build import build_model
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.ship import compile_genome, load_network
from genelang.runtime.task_data import sample_batch
from genelang.runtime.train import train_genome
from tests.test_ship_trained import _load_script as _script

torch.set_num_threads(1)
EX = Path(__file__).parents[1] / "examples" / "genotypes"


def _source(path):
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.load()


@pytest.fixture(scope="module")
def trained_digits(tmp_path_factory):
    run = tmp_path_factory.mktemp("ship") / "run"
    genome = load_file(EX / "nasgep_demo.gene").genomes[0]
    task = TaskConfig("digits", subset=200)
    result = train_genome(genome, task, ModelConfig(C=4), epochs=1, out_dir=run)
    x = sample_batch(task)[0][:8]
    stats = json.loads((run / "metrics.json").read_text())["preprocess"]
    raw = x * torch.tensor(stats["std"]).view(1, -1, 1, 1) + torch.tensor(stats["mean"]).view(1, -1, 1, 1)
    with torch.no_grad():
        want = result.model.eval()(x)
    return run, raw, want


def test_every_target_ships_the_trained_network_on_raw_input_and_none_collide(trained_digits):
    run, raw, want = trained_digits
    assert 0 <= raw.min() and raw.max() <= 1 + 1e-5 and raw.shape[1:] == (1, 8, 8)
    runner = CliRunner()
    for target in ("torchscript", "python", "export"):
        res = runner.invoke(cli, ["compile", str(run), "--to", target])
        assert res.exit_code == 0, res.output
    # the python target's weights no longer take the TorchScript file's name
    assert (run / "nasgep_demo.weights.pt").exists()
    assert (run / "model.pt").exists() and json.loads((run / "metrics.json").read_text())
    with torch.no_grad():
        for got in (_script(run / "nasgep_demo.pt")(raw), _source(run / "nasgep_demo.py")(raw),
                    torch.export.load(str(run / "nasgep_demo.pt2")).module()(raw)):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_the_default_names_are_what_help_says(trained_digits, tmp_path):
    run, _, _ = trained_digits
    paths = compile_genome(run, "python", tmp_path / "net.py")
    assert paths == [tmp_path / "net.py", tmp_path / "net.weights.pt"]
    res = CliRunner().invoke(cli, ["compile", "--help"])
    assert "GENOME.weights.pt" in " ".join(res.output.split())
    with pytest.raises(GenelangError) as err:
        compile_genome(run, "torchscript", run / "model.pt")
    assert "overwrite" in str(err.value) and err.value.diagnostics[0].location.file == "out="


def test_library_errors_name_arguments_and_the_cli_maps_them(trained_digits, tmp_path):
    run, _, _ = trained_digits
    with pytest.raises(GenelangError) as err:
        compile_genome(run, "torchscript", input_shape=(1, 8, 8))
    assert err.value.diagnostics[0].location.file == "input_shape="
    with pytest.raises(GenelangError) as err:
        compile_genome(EX / "nasgep_demo.gene", "torchscrip")
    assert "did you mean 'torchscript'" in str(err.value)
    res = CliRunner().invoke(cli, ["compile", str(EX / "nasgep_demo.gene"), "--to", "summary",
                                   "--input-shape", "1,1,1"])
    assert res.exit_code == 2 and "--input-shape" in res.output and "input_shape=" not in res.output


def test_a_genome_built_for_a_task_standardises_its_input(tmp_path):
    net = load_network(EX / "nasgep_demo.gene", task="digits", model=ModelConfig(C=4))
    assert net.input_shape == (1, 8, 8) and net.preprocess.mean
    with torch.no_grad():
        torch.testing.assert_close(net.module(net.example), net.net(net.net_input))
    bare = load_network(EX / "nasgep_demo.gene", model=ModelConfig(C=4), input_shape=(1, 8, 8))
    assert bare.module is bare.net and not bare.preprocess.mean   # no task: no normalisation


def test_summary_writes_to_the_output_file(trained_digits, tmp_path):
    run, _, _ = trained_digits
    res = CliRunner().invoke(cli, ["compile", str(run), "--to", "summary", "-o", str(tmp_path / "s.txt")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "s.txt").read_text()
    assert "input 1,8,8" in text and "total" in text
    assert "total" not in res.output


@pytest.mark.parametrize("batch", [1, 4, 64])
def test_export_takes_any_batch_size(tmp_path, batch):
    genome = load_file(EX / "nasgep_demo.gene").genomes[0]
    torch.manual_seed(0)
    model, x = build_model(genome, ModelConfig(C=4), input_shape=(3, 16, 16))
    export.to_export(model, x, tmp_path / "m.pt2")
    ep = torch.export.load(str(tmp_path / "m.pt2")).module()
    xb = torch.randn(batch, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(ep(xb), model(xb), atol=1e-5, rtol=1e-5)


def test_export_of_a_recurrent_network_takes_any_batch_and_length(tmp_path):
    from genelang.runtime.sequence import build_sequence_model
    genome = load_file(EX / "gru.gene").genomes[0]
    torch.manual_seed(0)
    layer, x = build_model(genome, ModelConfig(hidden=6), input_shape=(5, 4))
    tagger = build_sequence_model(genome, head="classify", vocab_size=30, embed_dim=4, hidden=6,
                                  bidirectional=True).eval()
    export.to_export(layer, x, tmp_path / "layer.pt2")
    export.to_export(tagger, torch.randint(0, 30, (2, 5)), tmp_path / "clf.pt2")
    ep_layer = torch.export.load(str(tmp_path / "layer.pt2")).module()
    ep_clf = torch.export.load(str(tmp_path / "clf.pt2")).module()
    with torch.no_grad():
        for batch, steps in ((1, 1), (4, 9), (64, 3)):
            xb = torch.randn(batch, steps, 4)
            torch.testing.assert_close(ep_layer(xb), layer(xb), atol=1e-5, rtol=1e-5)
            tokens = torch.randint(0, 30, (batch, steps))
            torch.testing.assert_close(ep_clf(tokens), tagger(tokens), atol=1e-5, rtol=1e-5)


def test_a_text_network_ships_its_vocabulary(tmp_path):
    genome = load_file(EX / "gru.gene").genomes[0]
    task = TaskConfig("text-classification")
    result = train_genome(genome, task, ModelConfig(hidden=8), epochs=1, out_dir=tmp_path / "t")
    paths = compile_genome(tmp_path / "t", "torchscript", tmp_path / "clf.pt")
    assert paths == [tmp_path / "clf.pt", tmp_path / "clf.vocab.json"]
    ids = json.loads((tmp_path / "clf.vocab.json").read_text())
    assert ids["<pad>"] == 0 and ids["<unk>"] == 1 and len(ids) > 100
    words = "a film that is good and funny".split()
    tokens = torch.tensor([[ids.get(w, ids["<unk>"]) for w in words]])
    with torch.no_grad():
        torch.testing.assert_close(_script(tmp_path / "clf.pt")(tokens), result.model.eval()(tokens))
