import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from genelang.cli import cli

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "examples" / "genotypes" / "nasgep_demo.gene"
BAD = ROOT / "tests" / "golden" / "unknown_symbol.gene"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_check_ok_and_error_exit_codes():
    assert run("check", DEMO).exit_code == 0
    res = run("check", DEMO, BAD)
    assert res.exit_code == 2
    assert "did you mean 'sep3x5'?" in res.output and "unknown_symbol.gene:2:26" in res.output


def test_check_json_lists_every_error():
    res = run("check", "--json", BAD)
    data = json.loads(res.stdout)
    assert res.exit_code == 2 and data["ok"] is False
    errors = data["files"][0]["errors"]
    assert [(e["line"], e["col"], e["code"]) for e in errors] == [(2, 26, "unknown"), (3, 29, "unknown")]


def test_fmt_rewrites_in_place_and_check_mode(tmp_path):
    f = tmp_path / "g.gene"
    f.write_text("genome g on conv{adf a=sep3x3|h1 h2\ncell normal=cat(a,a) cell reduction=add(a,a)}")
    assert run("fmt", "--check", f).exit_code == 1
    assert run("fmt", f).exit_code == 0
    assert run("fmt", "--check", f).exit_code == 0
    assert f.read_text().startswith("genome g on conv {\n    adf a          = sep3x3 | h1 h2\n")
    assert run("fmt", "--karva", f).exit_code == 0
    assert "cell normal    = cat | a a\n" in f.read_text()
    assert run("fmt", "--tree", f).exit_code == 0
    assert "adf a          = sep3x3(h1)" in f.read_text()


def test_fmt_never_touches_a_file_it_cannot_parse(tmp_path):
    f = tmp_path / "broken.gene"
    text = "genome g on conv { adf a = sep3x3 | h1 h2 "
    f.write_text(text)
    res = run("fmt", f)
    assert res.exit_code == 2 and "not closed" in res.output
    assert f.read_text() == text and list(tmp_path.iterdir()) == [f]


def test_show_marks_shared_nodes():
    res = run("show", DEMO)
    assert res.exit_code == 0
    assert "add(sep3x3(h1), dw5x5(h2))" in res.output
    assert "shared node" in res.output


def test_ops_lists_registry():
    res = run("ops", "conv")
    assert res.exit_code == 0 and "sep_conv_3x3" in res.output and "isep7x1" in res.output


def test_console_script_reports_without_traceback(tmp_path):
    exe = shutil.which("genelang", path=str(Path(sys.executable).parent))
    assert exe, "console script not installed"
    proc = subprocess.run([exe, "check", str(BAD)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "genelang", "check", str(tmp_path / "nope.gene")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
