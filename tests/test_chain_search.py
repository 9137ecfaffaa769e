"""Each chain space is searched by `genelang evolve` with a tiny spec (train,
params and a strict-fair supernet as estimators), and its best genome
compiles to TorchScript."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.evolve_helpers import evolve_cli

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("space, estimator", [("proxyless", "train"), ("fbnet", "params"), ("spos", "params")])
def test_genelang_evolve_searches_each_chain_space(tmp_path, space, estimator):
    spec = {"run": {"name": space, "seed": 1, "out": str(tmp_path / space)},
            "task": {"name": "digits", "subset": 200},
            "space": {"space": space}, "model": {"C": 4, "skeleton": "mnist"},
            "strategy": {"name": "gep", "population": 4, "generations": 2},
            "fitness": {"estimator": estimator, "objectives": ["fitness", "-macs"]},
            "supernet": {"steps": 4, "sampling": "strict-fair", "bn_batches": 1, "val_samples": 32,
                         "checkpoint_every": 2},
            "execution": {"workers": 0}}
    run_dir, rows = evolve_cli(spec, tmp_path / "spec.yaml")
    assert len(rows) >= 4 and all(s == "ok" for s, _, _ in rows)
    assert all(f" on {space} " in g and json.loads(m)["macs"] > 0 for _, g, m in rows)
    out = tmp_path / "best.pt"
    res = subprocess.run([sys.executable, "-m", "genelang", "compile", str(run_dir / "best.gene"), "--to",
                          "torchscript", "-o", str(out), "--channels", "4", "--skeleton", "mnist",
                          "--input-shape", "1,28,28"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert torch.jit.load(str(out))(torch.randn(2, 1, 28, 28)).shape == (2, 10)
