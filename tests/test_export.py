"""Every example compiles; exports give the eager outputs and load without genelang."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genelang.compiler.registry import get_space
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler import load_file
from genelang.runtime import export
from genelang.runtime.build import build_model
from genelang.runtime.config import ModelConfig
from genelang.runtime.summary import summarize

torch.set_num_threads(1)
EX = Path(__file__).parents[1] / "examples" / "genotypes"
EXAMPLES = sorted(EX.glob("*.gene"))
NO_GENELANG = "import sys; sys.modules['genelang'] = None\n"   # any import of genelang now fails


def small(genome):
    shape = (3, 16, 16) if get_space(genome.space).input_layout == ("C", "H", "W") else (5, 4)
    torch.manual_seed(0)
    return build_model(genome, ModelConfig(C=4, layers=5, hidden=8), input_shape=shape)


def run_isolated(code: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-c", NO_GENELANG + code], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_exports_and_matches_eager(path, tmp_path):
    genome = load_file(path).genomes[0]
    model, x = small(genome)
    with torch.no_grad():
        want = model(x)
    torch.save(x, tmp_path / "x.pt")
    torch.save(want, tmp_path / "want.pt")
    export.to_torchscript(model, tmp_path / "m.pt")
    export.to_python(model, tmp_path / "m_src.py", rnn_loop=get_space(genome.space).main_kind == "state")
    check = ("import torch\nx = torch.load('x.pt'); want = torch.load('want.pt')\n"
             "{load}\nwith torch.no_grad():\n    got = m(x)\n"
             "assert (got - want).abs().max().item() <= 1e-5, (got - want).abs().max().item()\nprint('ok')\n")
    assert run_isolated(check.format(load="m = torch.jit.load('m.pt')"), tmp_path).strip() == "ok"
    assert run_isolated(check.format(load="import m_src; m = m_src.load()"), tmp_path).strip() == "ok"
    source = (tmp_path / "m_src.py").read_text()
    assert "genelang" not in source.split('"""', 2)[-1]
    if genome.space != "rnn":
        export.to_export(model, x, tmp_path / "m.pt2")
        ep = torch.export.load(str(tmp_path / "m.pt2"))
        torch.testing.assert_close(ep.module()(x), want, atol=1e-5, rtol=1e-5)


def test_summary_counts_match_the_model():
    genome = load_file(EX / "darts_v2.gene").genomes[0]
    model, x = build_model(genome, ModelConfig("darts", C=8, layers=5))
    rows = summarize(model, x)
    assert rows[-1].name == "total"
    assert rows[-1].params == sum(p.numel() for p in model.parameters())
    assert all(r.macs > 0 for r in rows if r.name.startswith("cells."))


def test_compile_cli_targets(tmp_path):
    runner = CliRunner()
    demo = EX / "nasgep_demo.gene"
    for target, name in (("torchscript", "a.pt"), ("python", "a.py"), ("dot", "a.dot"), ("dot", "a.svg")):
        res = runner.invoke(cli, ["compile", str(demo), "--to", target, "-o", str(tmp_path / name),
                                  "--channels", "4", "--input-shape", "1,28,28"])
        assert res.exit_code == 0, res.output
        assert (tmp_path / name).stat().st_size > 0
    assert "digraph" in (tmp_path / "a.dot").read_text()
    res = runner.invoke(cli, ["compile", str(demo), "--to", "summary", "--channels", "4"])
    assert res.exit_code == 0 and "total" in res.output
    res = runner.invoke(cli, ["compile", str(demo), "--to", "summary", "--input-shape", "3,x"])
    assert res.exit_code == 2
    res = runner.invoke(cli, ["compile", str(demo), "--to", "summary", "--input-shape", "1,2,2"])
    assert res.exit_code == 2 and "cannot build" in res.output


def test_svg_without_graphviz_is_a_clear_error(tmp_path, monkeypatch):
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    res = CliRunner().invoke(cli, ["compile", str(EX / "nasgep_demo.gene"), "--to", "dot",
                                   "-o", str(tmp_path / "a.svg"), "--channels", "4"])
    assert res.exit_code == 2
    assert "apt-get install graphviz" in res.output
    assert not (tmp_path / "a.svg").exists()
