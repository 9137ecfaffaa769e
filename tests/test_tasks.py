"""Every task kind on tiny data: data loads in the real format, a few epochs
lower the training loss, metrics are in range, missing data is a DataError."""
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from genelang.compiler import load_file
from genelang.errors import DataError, GenelangError
from genelang.runtime.tasks import get_task
from genelang.runtime.tasks.text import entities, entity_f1
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.scoring import evaluate
from genelang.runtime.train import train_genome

torch.set_num_threads(1)
EX = Path(__file__).parents[1] / "examples" / "genotypes"
CONV = load_file(EX / "nasgep_demo.gene").genomes[0]
GRU = load_file(EX / "gru.gene").genomes[0]


def losses_fall(result):
    first, last = result.history[0]["train_loss_epoch"], result.history[-1]["train_loss_epoch"]
    return last < first


def test_digits_training_lowers_loss_and_reports_accuracy():
    r = train_genome(CONV, TaskConfig("digits", batch_size=64), ModelConfig(C=4), epochs=3, test=True)
    assert losses_fall(r)
    assert 0.0 <= r.metrics["val_acc"] <= 1.0 and 0.0 <= r.metrics["test_acc"] <= 1.0
    assert r.metrics["val_acc"] > 0.3 and r.metrics["score"] == r.metrics["val_acc"]
    # the logged (torchmetrics) accuracy is the plain fraction right over the whole split
    again = evaluate(r.model, TaskConfig("digits", batch_size=64))
    assert again["val_acc"] == pytest.approx(r.metrics["val_acc"], abs=1e-6)


def write_cifar(root: Path, n: int = 40):
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, n).tolist()
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        with open(d / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": data,
                         "filenames": [f"{i}.png" for i in range(n)]}, f)
    with open(d / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [str(i) for i in range(10)], "num_cases_per_batch": n}, f)


def test_cifar_reads_the_real_batch_format(tmp_path):
    write_cifar(tmp_path)
    data = get_task("cifar10")(root=str(tmp_path))
    assert data.train_x.shape == (200, 3, 32, 32) and data.test_x.shape == (40, 3, 32, 32)
    r = train_genome(CONV, TaskConfig("cifar10", root=str(tmp_path), batch_size=50), ModelConfig(C=4), epochs=2)
    assert 0.0 <= r.metrics["val_acc"] <= 1.0
    with pytest.raises(DataError):
        get_task("cifar10")(root=str(tmp_path / "nowhere"))


def test_image_folder_decodes_once_and_caches(tmp_path, monkeypatch):
    from PIL import Image

    from genelang.runtime.tasks import images
    monkeypatch.setattr(images, "CACHE", tmp_path / "cache")
    rng = np.random.default_rng(1)
    for part in ("train", "test"):
        for cls in ("cat", "dog"):
            (tmp_path / part / cls).mkdir(parents=True)
            for i in range(6):
                arr = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
                Image.fromarray(arr).save(tmp_path / part / cls / f"{i}.png")
    data = get_task("image-folder")(root=str(tmp_path), image_size=16)
    assert data.train_x.shape == (12, 3, 16, 16) and data.num_classes == 2
    cached = list((tmp_path / "cache" / "image-folder").glob("*.pt"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = get_task("image-folder")(root=str(tmp_path), image_size=16)
    assert torch.equal(again.train_x, data.train_x) and cached[0].stat().st_mtime_ns == stamp
    Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(tmp_path / "train" / "cat" / "new.png")
    assert get_task("image-folder")(root=str(tmp_path), image_size=16).train_x.shape == (13, 3, 16, 16)


def test_fashion_mnist_embedded_default_and_missing_root(tmp_path):
    data = get_task("fashion-mnist")()
    assert data.train_x.shape == (60000, 1, 28, 28) and data.test_x.shape == (10000, 1, 28, 28)
    assert abs(float(data.train_x.mean())) < 1e-3
    with pytest.raises(DataError) as e:
        get_task("fashion-mnist")(root=str(tmp_path))
    assert "dataset-fashion-mnist" in e.value.diagnostics[0].hint


def test_text_classification_with_bundled_vectors():
    r = train_genome(GRU, TaskConfig("text-classification", batch_size=16), ModelConfig(hidden=16),
                     epochs=4, lr=0.01, test=True)
    assert losses_fall(r)
    assert 0.0 <= r.metrics["val_acc"] <= 1.0


def test_labelled_text_from_a_path_with_trained_word2vec(tmp_path):
    f = tmp_path / "data.tsv"
    rng = np.random.default_rng(0)
    lines = []
    for i in range(60):
        pos = i % 2 == 0
        words = rng.choice(["good", "great", "fine"] if pos else ["bad", "awful", "poor"], 4)
        lines.append(("pos" if pos else "neg") + "\t" + " ".join(words) + " movie")
    f.write_text("\n".join(lines) + "\n")
    r = train_genome(GRU, TaskConfig("text-classification", root=str(f), batch_size=8),
                     ModelConfig(hidden=8), epochs=4, lr=0.02)
    assert losses_fall(r)
    bad = tmp_path / "bad.txt"
    bad.write_text("no label here\n")
    with pytest.raises(DataError) as e:
        get_task("text-classification")(root=str(bad))
    assert e.value.diagnostics[0].location.line == 1


def test_language_model_on_ptb_layout(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    for name, n in (("train.txt", 200), ("valid.txt", 30), ("test.txt", 30)):
        (tmp_path / name).write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(n)))
    r = train_genome(GRU, TaskConfig("lm", root=str(tmp_path), batch_size=16), ModelConfig(hidden=16),
                     epochs=3)
    assert losses_fall(r)
    assert 1.0 < r.metrics["val_ppl"] < 200 and r.metrics["score"] == -r.metrics["val_ppl"]


def test_conll_ner_with_entity_f1(tmp_path):
    sent = [("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC"), ("call", "O"), ("Peter", "B-PER"),
            ("Blackburn", "I-PER"), (".", "O")]
    block = "\n".join(f"{w} NNP B-NP {t}" for w, t in sent)
    for name in ("train.txt", "valid.txt", "test.txt"):
        (tmp_path / name).write_text("-DOCSTART- -X- -X- O\n\n" + "\n\n".join([block] * 12) + "\n")
    r = train_genome(GRU, TaskConfig("conll2003", root=str(tmp_path), batch_size=8), ModelConfig(hidden=16),
                     epochs=3, lr=0.02)
    assert losses_fall(r)
    assert 0.0 <= r.metrics["val_f1"] <= 1.0


def test_entity_f1_counts_spans():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    assert entities(gold[0]) == {(0, 2, "PER"), (3, 4, "LOC")}
    assert entity_f1(gold, gold) == 1.0
    assert entity_f1(gold, [["B-PER", "O", "O", "B-LOC"]]) == pytest.approx(0.5)


def test_a_genome_of_the_wrong_space_is_refused():
    with pytest.raises(GenelangError):
        train_genome(GRU, TaskConfig("digits"), epochs=1)


def test_narrow_networks_train_without_crashing():
    """torch's channels_last CPU kernels corrupt memory for < 4-channel convs;
    the classifier keeps such networks in the default layout."""
    from genelang.runtime.channels_last import channels_last_safe
    from genelang.runtime.networks import build_network
    assert not channels_last_safe(build_network(CONV, C=2, N=1, in_channels=1))
    assert channels_last_safe(build_network(CONV, C=4, N=1, in_channels=1))
    r = train_genome(CONV, TaskConfig("digits", subset=200), ModelConfig(C=2, channels_last=True), epochs=1)
    assert 0.0 <= r.metrics["val_acc"] <= 1.0


def test_channels_last_is_never_used_with_bf16_on_the_cpu_for_dilated_depthwise_convs():
    """oneDNN's bf16 channels_last weight gradient of a dilated depthwise conv is
    garbage on this CPU (docs/channels_last.md, bench/repro_channels_last.py)."""
    from torch import nn

    from genelang.runtime.channels_last import channels_last_safe
    dilated = nn.Sequential(nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8), nn.Conv2d(8, 8, 1))
    plain = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 8, 1))
    assert channels_last_safe(dilated) and channels_last_safe(plain, bf16_cpu=True)
    assert not channels_last_safe(dilated, bf16_cpu=True)
