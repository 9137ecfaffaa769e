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


def test_the_controller_learns_and_searches_a_chain_space(tmp_path):
    """ENAS's controller on proxyless: a position per layer, skip only where a
    layer may hold it; its policy moves toward a planted block; a search runs."""
    import random
    import sqlite3

    import numpy as np

    from genelang.compiler.chain_space import layer_blocks
    from genelang.compiler.template import Template
    from genelang.evolve.search import run_search
    from genelang.evolve.spec.schema import parse_spec
    from genelang.evolve.strategies import make_strategy
    from tests.test_controller import train
    torch.set_num_threads(1)
    spec = parse_spec({"run": {"name": "ctl", "seed": 1, "out": str(tmp_path / "ctl")},
                       "task": {"name": "digits", "subset": 200}, "space": {"space": "proxyless"},
                       "model": {"C": 4, "skeleton": "mnist"},
                       "strategy": {"name": "controller", "population": 6, "generations": 2},
                       "fitness": {"estimator": "params", "objectives": ["fitness", "-macs"]},
                       "execution": {"workers": 0}})
    t = Template.from_spec(spec.space)
    c = make_strategy(spec, t)
    sizes = c.positions.codec.domain_size[c.positions.columns]
    assert len(c.positions) == 21 and set(sizes) == {6, 7}    # 6 MBConvs, plus skip where allowed

    def share(syms) -> float:
        return float(np.mean([b == "mb3e3" for b in layer_blocks(t.genome(syms))]))

    rng = random.Random(0)
    before = np.mean([share(c.sample(rng)) for _ in range(100)])
    train(c, 20, share)
    after = np.mean([share(c.sample(rng)) for _ in range(100)])
    assert after > before + 0.2, (before, after)
    result = run_search(spec)
    with sqlite3.connect(result.run_dir / "results.sqlite") as db:
        rows = db.execute("SELECT status, genome FROM evaluations").fetchall()
    assert len(rows) >= 6 and all(s == "ok" and " on proxyless " in g for s, g in rows)
