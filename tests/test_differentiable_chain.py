"""Differentiable search over the chain spaces (genelang/differentiable/chain.py)
and the expected-latency hardware loss: one-hot α computes what the derived
genome's own network computes with the same weights, GDAS runs one block per
layer, planted α derives the planted genome, the expected latency on a fake
table is the hand sum and its gradient favours the faster block, a missing
entry is reported, the spec refusals, and `genelang evolve` end to end."""
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner

from genelang.compiler import load_text
from genelang.compiler.chain_space import layer_blocks
from genelang.compiler.check import check_genome
from genelang.compiler.printer import format_genome
from genelang.differentiable import Architecture, ArchSample, HardGumbel, Softmax, get_relaxation
from genelang.differentiable.hardware import HardwareLoss, HardwareTarget, latency_prices
from genelang.runtime.build import space_network
from genelang.runtime.config import ModelConfig
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.device import device_key
from genelang.runtime.latency.predict import MissingLatency, Predictor, latency_model
from genelang.runtime.latency.table import LatencyTable

ROOT = Path(__file__).resolve().parents[1]
MODEL = ModelConfig(skeleton="mnist", C=4)
SHAPE = (1, 8, 8)
pytestmark = pytest.mark.usefixtures("one_thread")


def _one_hot(relaxation, indices) -> list[torch.Tensor]:
    return [torch.nn.functional.one_hot(torch.tensor(i), len(p.choices)).float()
            for p, i in zip(relaxation.positions, indices)]


@pytest.mark.parametrize("space", ["proxyless", "fbnet", "spos"])
def test_one_hot_alpha_computes_what_the_derived_genome_builds(space):
    r = get_relaxation(space, MODEL)
    torch.manual_seed(0)
    net = r.network(Softmax(), C=MODEL.C, N=1, num_classes=10, in_channels=SHAPE[0]).eval()
    g = torch.Generator().manual_seed(1)
    indices = [int(torch.randint(len(p.choices), (1,), generator=g)) for p in r.positions]
    genome = r.genome(indices)
    built = space_network(genome, MODEL, num_classes=10, input_shape=SHAPE).eval()
    built.load_state_dict(net.path(indices).state_dict())
    x = torch.randn(4, *SHAPE)
    n = len(indices)
    with torch.no_grad():
        mixed = net(x, ArchSample(_one_hot(r, indices), [None] * n, [None] * n))
        gdas = net(x, ArchSample(_one_hot(r, indices), indices, [None] * n))
        assert torch.allclose(mixed, built(x), atol=1e-5)
        assert torch.allclose(gdas, built(x), atol=1e-5)


def test_gdas_runs_one_block_per_layer_and_its_gradient_reaches_every_logit():
    r = get_relaxation("fbnet", MODEL)
    torch.manual_seed(0)
    net = r.network(HardGumbel(), C=MODEL.C, N=1, num_classes=10, in_channels=SHAPE[0])
    ran = []
    for p, layer in enumerate(net.layers):
        for k, op in enumerate(layer.ops):
            op.register_forward_hook(lambda *_, p=p, k=k: ran.append((p, k)))
    arch = Architecture([len(p.choices) for p in r.positions], seed=0)
    sample = HardGumbel().sample(arch, torch.Generator().manual_seed(0), 0.0)
    net(torch.randn(2, *SHAPE), sample).sum().backward()
    # a block's own submodules fire hooks of their own, never another block's
    assert sorted(set(ran)) == [(p, c) for p, c in enumerate(sample.chosen)]
    assert all(a.grad is not None and (a.grad != 0).all() for a in arch.alpha)


@pytest.mark.parametrize("path", ["proxyless-mobile.gene", "fbnet-a.gene", "spos-best.gene"])
def test_planted_alpha_derives_the_planted_genome_and_it_checks_and_builds(path):
    planted = load_text((ROOT / "examples" / "genotypes" / path).read_text(), path).genomes[0]
    r = get_relaxation(planted.space, MODEL)
    arch = Architecture([len(p.choices) for p in r.positions], seed=0, scale=0.1)
    with torch.no_grad():
        for a, p, block in zip(arch.alpha, r.positions, layer_blocks(planted)):
            a[p.choices.index(block)] += 1.0
    text = format_genome(r.derive(arch, "found"))
    found = load_text(text, "<derived>").genomes[0]
    assert not check_genome(found)
    assert layer_blocks(found) == layer_blocks(planted)
    assert space_network(found, MODEL, num_classes=10, input_shape=SHAPE)(torch.randn(2, *SHAPE)).shape == (2, 10)


# a fake latency table: each block's milliseconds by its symbol (mb3e3 the fastest MBConv, skip faster still)
MS = {"mb3e3": 1.0, "mb3e6": 2.0, "mb5e3": 3.0, "mb5e6": 4.0, "mb7e3": 5.0, "mb7e6": 6.0, "skip": 0.5}
STEM, HEAD = 3.0, 4.0


def _fake_table(tmp_path, leave_out: int = 0) -> tuple[Predictor, object]:
    """A predictor over a table holding every proxyless entry but the last `leave_out`."""
    cfg = LatencyConfig(table=str(tmp_path / "latency.json"), measure_missing=False)
    r = get_relaxation("proxyless", MODEL)
    entries = r.latency_entries(num_classes=10, input_shape=SHAPE)
    ms = {entries.base[0]: STEM, entries.base[1]: HEAD}
    for pos, row in zip(r.positions, entries.choices):
        ms.update({name: MS[c] for c, name in zip(pos.choices, row)})
    names = entries.names()
    LatencyTable(cfg.table, device_key(cfg)).add({n: ms[n] for n in names[:len(names) - leave_out]})
    return Predictor(cfg, latency_model("proxyless", MODEL, 10, SHAPE), LatencyTable(cfg.table, device_key(cfg))), r


def test_expected_latency_is_the_hand_sum_and_its_gradient_favours_the_faster_block(tmp_path):
    predictor, r = _fake_table(tmp_path)
    grid = latency_prices(r, predictor, num_classes=10, input_shape=SHAPE)
    # proxyless: 21 layers; each stage's first changes the width (6, no skip), the other 15 may skip
    blocks = sum(v for k, v in MS.items() if k != "skip")
    hand = STEM + HEAD + 6 * blocks / 6 + 15 * (blocks + MS["skip"]) / 7
    alphas = [torch.zeros(len(p.choices), requires_grad=True) for p in r.positions]
    probs = [torch.softmax(a, 0) for a in alphas]
    assert abs(float(grid.expected(probs).detach()) - hand) < 1e-4
    # one-hot: the table's own sum for that genome (runtime.latency's predictor)
    picked = [len(p.choices) - 1 for p in r.positions]
    assert grid.of(picked) == pytest.approx(predictor.latency(r.genome(picked)))
    HardwareLoss(grid, HardwareTarget("latency", 50.0, 1.0, "linear"))(probs).backward()
    fastest = [p.choices.index("skip" if "skip" in p.choices else "mb3e3") for p in r.positions]
    assert [int(a.grad.argmin()) for a in alphas] == fastest    # a descent step raises the fastest block most
    with torch.no_grad():
        for a in alphas:
            a -= 50 * a.grad
    assert r.argmax(alphas) == fastest


def test_a_missing_latency_entry_is_reported_never_zero(tmp_path):
    predictor, r = _fake_table(tmp_path, leave_out=1)
    with pytest.raises(MissingLatency, match="1 latency entries missing"):
        latency_prices(r, predictor, num_classes=10, input_shape=SHAPE)


def _spec(tmp_path, space="proxyless", name="darts", **options) -> dict:
    return {"run": {"name": "c", "seed": 0, "out": str(tmp_path / "run")},
            "task": {"name": "digits", "subset": 64, "batch_size": 16},
            "space": {"space": space}, "model": {"skeleton": "mnist", "C": 4},
            "strategy": {"name": name, "options": {"epochs": 1, "C": 4} | options},
            "fitness": {"estimator": "params"}}


@pytest.mark.parametrize("spec, where", [
    (dict(name="pc-darts", k=2), "strategy.name"),
    (dict(space="nb201", hardware={"cost": "latency", "target": 5}), "strategy.options.hardware.cost"),
    (dict(hardware={"cost": "latency", "target": 5}), "fitness.latency.table"),
], ids=["pc-darts-on-chain", "latency-end-to-end-space", "no-table"])
def test_spec_check_refuses_what_a_chain_relaxation_cannot_do(tmp_path, spec, where):
    from genelang.cli import cli
    body = _spec(tmp_path, **spec)
    body["fitness"]["latency"] = {"table": str(tmp_path / "none.json"), "measure_missing": False}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(body))
    res = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert res.exit_code == 2, res.output
    assert where in res.output


def _image_folder(root: Path) -> None:
    """Two classes of tiny images: dark and bright."""
    from PIL import Image
    rng = np.random.default_rng(0)
    for part, n in (("train", 16), ("test", 4)):
        for cls, lo in (("dark", 0), ("bright", 128)):
            (root / part / cls).mkdir(parents=True)
            for i in range(n):
                arr = rng.integers(lo, lo + 128, (8, 8, 3), dtype=np.uint8)
                Image.fromarray(arr).save(root / part / cls / f"{i}.png")


def test_genelang_evolve_gdas_on_a_chain_space_with_a_latency_target_stores_the_derived_genome(tmp_path,
                                                                                                 monkeypatch):
    from genelang.cli import cli
    from genelang.evolve.run.runs import load_run
    from genelang.runtime.tasks import images
    monkeypatch.setattr(images, "CACHE", tmp_path / "cache")
    _image_folder(tmp_path / "data")
    spec = _spec(tmp_path, name="gdas", hardware={"cost": "latency", "target": 1.0, "weight": 1.0})
    spec["task"] = {"name": "image-folder", "root": str(tmp_path / "data"), "batch_size": 4, "val": 4}
    spec["model"] = {"skeleton": "cifar", "C": 4}
    # the table is measured on the way (missing entries are timed, not zero): one repeat keeps it quick
    spec["fitness"]["latency"] = {"table": str(tmp_path / "latency.json"), "warmup": 0, "repeats": 1}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(cli, ["evolve", str(path)])
    assert res.exit_code == 0, res.output
    run_dir = tmp_path / "run"
    run = load_run(run_dir)
    assert len(run.evaluations) == 1 and (run.evaluations.status == "ok").all()
    stored = load_text(run.evaluations.genome[0], "<stored>").genomes[0]
    assert stored.space == "proxyless"
    assert not check_genome(stored)
    best = load_text((run_dir / "best.gene").read_text(), "best.gene").genomes[0]
    assert layer_blocks(best) == layer_blocks(stored)
    history = yaml.safe_load((run_dir / "differentiable" / "alpha_history.json").read_text())
    last = history["epochs"][-1]
    assert last["expected_latency_ms"] > 0 and last["derived_latency_ms"] > 0
    # every entry the expectation reads was timed into the table on the way
    cfg = LatencyConfig(table=str(tmp_path / "latency.json"))
    entries = get_relaxation("proxyless", ModelConfig(skeleton="cifar", C=4)).latency_entries(
        num_classes=2, input_shape=(3, 32, 32))
    table = LatencyTable(cfg.table, device_key(cfg))
    assert all(table.get(n) > 0 for n in entries.names())
    assert format_genome(stored).splitlines()[1:] == last["genome"].splitlines()[1:]
