"""The transformer space: encoder blocks as Karva programs over sequence ops."""
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from genelang.cli import cli
from genelang.compiler import check_file, format_file, load_file, load_text, parse_text
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.train import train_genome
from genelang.runtime.transformer import lower_block, transformer_layers
from tests.test_tasks import losses_fall

POST_LN = "examples/genotypes/transformer_post_ln.gene"
TINYBERT = ModelConfig(hidden=312, heads=12, ffn=1200, rnn_layers=4)


def _post_ln():
    return load_file(POST_LN).genomes[0]


def test_genomes_round_trip_and_report_located_errors():
    text = open(POST_LN).read()
    assert format_file(parse_text(text)) == text
    bad = check_file(parse_text(text.replace("ln add x attn", "ln add x atention")))
    assert any(d.message == "unknown symbol 'atention'" and d.hint == "did you mean 'attn'?" for d in bad)
    assert all(d.location.line == 5 for d in bad)
    missing = check_file(parse_text(text.replace("cell out ", "cell top ")))
    assert any("out" in d.message for d in missing)


def test_the_tinybert_preset_has_nn_transformer_encoders_parameters():
    layers = transformer_layers(_post_ln(), input_size=312, hidden=312, layers=4, bidirectional=False, causal=False,
                                model=TINYBERT)
    ref = nn.TransformerEncoder(nn.TransformerEncoderLayer(312, 12, 1200, batch_first=True), 4,
                                enable_nested_tensor=False)
    assert sum(p.numel() for p in layers.parameters()) == sum(p.numel() for p in ref.parameters()) == 4_568_736


def test_the_post_ln_block_computes_what_pytorchs_encoder_layer_computes():
    torch.manual_seed(0)
    model = ModelConfig(hidden=16, heads=4, ffn=24)
    block = lower_block(_post_ln(), 16, model).eval()
    ref = nn.TransformerEncoderLayer(16, 4, 24, dropout=0.0, activation="gelu", batch_first=True).eval()
    attn = ref.self_attn
    block.attn0.qkv.load_state_dict({"weight": attn.in_proj_weight, "bias": attn.in_proj_bias})
    block.attn0.out.load_state_dict(attn.out_proj.state_dict())
    block.ffn2.linear1.load_state_dict(ref.linear1.state_dict())
    block.ffn2.linear2.load_state_dict(ref.linear2.state_dict())
    block.ln1.load_state_dict(ref.norm1.state_dict())
    block.ln3.load_state_dict(ref.norm2.state_dict())
    x = torch.randn(3, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x), ref(x), rtol=1e-5, atol=1e-5)
        causal = lower_block(_post_ln(), 16, model, causal=True).eval()
        causal.load_state_dict(block.state_dict())
        mask = nn.Transformer.generate_square_subsequent_mask(7)
        torch.testing.assert_close(causal(x), ref(x, src_mask=mask, is_causal=True), rtol=1e-5, atol=1e-5)


def test_a_causal_block_never_reads_the_future():
    genome = load_text("""genome c on transformer {
    adf a1   = add x conv | x x x x
    cell out = add a1 attn | a1 a1 a1 a1
}
""").genomes[0]
    block = lower_block(genome, 8, ModelConfig(heads=2), causal=True).eval()
    x = torch.randn(1, 6, 8)
    later = x.clone()
    later[:, 4:] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(block(x)[:, :4], block(later)[:, :4])
        assert not torch.allclose(block(x)[:, 4:], block(later)[:, 4:])


def test_a_language_model_learns(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    for name, n in (("train.txt", 200), ("valid.txt", 30), ("test.txt", 30)):
        (tmp_path / name).write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(n)))
    r = train_genome(_post_ln(), TaskConfig("lm", root=str(tmp_path), batch_size=16),
                     ModelConfig(hidden=16, heads=2, ffn=32), epochs=3)
    assert losses_fall(r)
    assert 1.0 < r.metrics["val_ppl"] < 200 and math.isfinite(r.metrics["val_ppl"])


@pytest.mark.parametrize("target", ["torchscript", "export", "onnx", "python", "summary"])
def test_every_export_target(tmp_path, target):
    res = CliRunner().invoke(cli, ["compile", POST_LN, "--to", target, "-o", str(tmp_path / f"b.{target}"),
                                   "--hidden", "16", "--input-shape", "5,16"])
    assert res.exit_code == 0, res.output


def test_genelang_evolve_searches_transformer_blocks(tmp_path):
    from genelang.evolve.search import run_search
    from genelang.evolve.spec.schema import parse_spec
    spec = parse_spec({"run": {"name": "tf", "seed": 0, "out": str(tmp_path / "tf")},
                       "task": {"name": "text-classification"},
                       "space": {"space": "transformer", "adfs": 2, "adf_head": 3, "main_head": 3},
                       "model": {"hidden": 16, "heads": 2, "ffn": 16},
                       "strategy": {"population": 4, "generations": 2},
                       "fitness": {"estimator": "params"}, "execution": {"workers": 0}})
    result = run_search(spec)
    assert result.evaluations >= 4 and result.failures == 0
    assert " on transformer " in (result.run_dir / "best.gene").read_text()


def test_train_takes_a_transformer_specs_heads_ffn_and_blocks(tmp_path):
    import json

    import yaml
    from genelang.runtime.models import make_model
    spec = {"run": {"name": "tf"}, "task": {"name": "text-classification"}, "space": {"space": "transformer"},
            "model": {"hidden": 16, "heads": 2, "ffn": 24, "rnn_layers": 2, "dropout": 0.1}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(cli, ["train", POST_LN, "--spec", str(tmp_path / "spec.yaml"), "--epochs", "1",
                                   "--out", str(tmp_path / "t"), "--json"])
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert {k: saved["model"][k] for k in ("hidden", "heads", "ffn", "rnn_layers", "dropout")} == spec["model"]
    built = make_model(_post_ln(), TaskConfig("text-classification"), ModelConfig(**spec["model"]))
    assert saved["params"] == sum(p.numel() for p in built.parameters())
    res = CliRunner().invoke(cli, ["train", POST_LN, "--task", "text-classification", "--hidden", "30"])
    assert res.exit_code == 2 and "does not divide into 4 attention heads" in res.output


def test_a_search_whose_width_the_heads_do_not_divide_is_refused_at_its_spec_path(tmp_path):
    import yaml
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"run": {"name": "tf", "out": str(tmp_path / "tf")},
                                    "task": {"name": "text-classification"}, "space": {"space": "transformer"},
                                    "model": {"hidden": 30, "heads": 4}}))
    for command in (["spec", "check", str(spec)], ["evolve", str(spec)]):
        res = CliRunner().invoke(cli, command)
        assert res.exit_code == 2, res.output
        assert "model.heads" in res.output and "width 30" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "tf").exists()     # refused before anything was written
