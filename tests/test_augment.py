"""Batched augmentation and the training options around it (augmentation
per task, torch.compile)."""
from pathlib import Path

import pytest
import torch

from genelang.compiler import load_file
from genelang.runtime.augment import Augment, cutout, random_crop
from genelang.runtime.tasks import get_task
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.task_data import augmentation
from genelang.runtime.train import train_genome

torch.set_num_threads(1)
CONV = load_file(Path(__file__).parents[1] / "examples" / "genotypes" / "nasgep_demo.gene").genomes[0]


def test_random_crop_shifts_each_image_within_the_padding():
    torch.manual_seed(0)
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float).reshape(2, 3, 6, 6) + 1
    out = random_crop(x, 2)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for b in range(2):   # each output is some 6×6 window of its padded image, all channels alike
        windows = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(padded[b, :, dy:dy + 6, dx:dx + 6], out[b])]
        assert len(windows) == 1


def test_flip_and_cutout():
    torch.manual_seed(1)
    x = torch.randn(64, 1, 8, 8)
    out = Augment(flip=True)((x, torch.zeros(64)))[0]
    same = [torch.equal(out[i], x[i]) for i in range(64)]
    flipped = [torch.equal(out[i], x[i].flip(2)) for i in range(64)]
    assert all(s or f for s, f in zip(same, flipped)) and 10 < sum(flipped) < 54
    holes = (cutout(torch.ones(64, 2, 8, 8), 4) == 0)
    per_image = holes[:, 0].flatten(1).sum(1)
    assert per_image.max() == 16 and per_image.min() >= 4     # clipped at the border, at least 2×2 left
    assert torch.equal(holes[:, 0], holes[:, 1])               # the same square in every channel


def test_augmentation_defaults_per_task_and_is_seeded():
    digits = get_task("digits")()
    assert not augmentation(TaskConfig("digits"), digits)
    on = augmentation(TaskConfig("digits", augment=True, cutout=2), digits)
    assert on.pad == 1 and on.flip and on.cutout == 2
    cifar_like = type(digits)(*[getattr(digits, f) for f in ("train_x", "train_y", "test_x", "test_y")],
                              10, "x", Augment(pad=4, flip=True))
    assert not augmentation(TaskConfig("cifar10", augment=False), cifar_like)
    runs = [train_genome(CONV, TaskConfig("digits", subset=256, augment=True, cutout=3), ModelConfig(C=4),
                         epochs=2, seed=3) for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert runs[0].history[-1]["train_loss_epoch"] < runs[0].history[0]["train_loss_epoch"]


def test_compiled_training_saves_plain_weights(tmp_path):
    r = train_genome(CONV, TaskConfig("digits", subset=256), ModelConfig(C=4, compile="eager"), epochs=2,
                     out_dir=tmp_path)
    assert r.history[-1]["train_loss_epoch"] < r.history[0]["train_loss_epoch"]
    keys = torch.load(tmp_path / "model.pt").keys()
    assert keys and not any("_orig_mod" in k for k in keys)


@pytest.mark.parametrize("args", [["--task", "ucr", "--dataset", "Nope"], ["--task", "forecast", "--dataset", "x"]])
def test_cli_reports_unknown_series_with_exit_2(args):
    from click.testing import CliRunner

    from genelang.cli import cli
    gru = str(Path(__file__).parents[1] / "examples" / "genotypes" / "gru.gene")
    res = CliRunner().invoke(cli, ["train", gru, *args])
    assert res.exit_code == 2 and "--dataset" in res.output and "Traceback" not in res.output
