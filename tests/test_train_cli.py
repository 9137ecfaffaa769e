"""`genelang train`: bad options are one-line errors (exit 2) before any
training, and a plain run prints no library noise."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from genelang.cli import cli
from genelang.runtime import devices

EX = Path(__file__).parents[1] / "examples" / "genotypes"
BASE = ["train", str(EX / "nasgep_demo.gene"), "--task", "digits", "--subset", "100", "--channels", "4"]


@pytest.mark.parametrize("args, says", [
    (["--lr", "-1"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--auxiliary"], "the auxiliary head needs 32x32"),
    (["--devices", "0"], "--devices: error[option]: GPU 0 is not on this machine"),
    (["--accelerator", "gpu"], "GPU 0 is not on this machine"),
    (["--devices", "gpu"], "--devices"),
    (["--precision", "16-mixed"], "--precision: error[option]: precision 16-mixed needs a GPU"),
    (["--out", "/proc/forbidden"], "cannot write /proc/forbidden"),
])
def test_bad_training_options_are_errors(args, says, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(devices, "visible_gpus", lambda: 0)
    res = CliRunner().invoke(cli, BASE + args)
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output


def test_a_plain_training_run_prints_no_library_noise(tmp_path):
    # a real process: Lightning's log handler holds the stderr it found at import
    cmd = [sys.executable, "-c", "from genelang.cli import main; main()", *BASE, "--out", str(tmp_path / "t")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    for noise in ("Tip:", "LeafSpec", "GPU available", "Warning", "`Trainer.fit` stopped"):
        assert noise not in text, text
    assert "val_acc" in text
    verbose = subprocess.run(cmd + ["--verbose"], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert verbose.returncode == 0 and "GPU available" in verbose.stdout + verbose.stderr
