"""Time-series tasks (the `timeseries` extra): UCR classification from
sktime's bundled sets and from a .ts file, one-step forecasting on a
statsmodels series and a CSV."""
from pathlib import Path

import numpy as np
import pytest
import torch

from genelang.compiler import load_file
from genelang.errors import DataError
from genelang.runtime.tasks import get_task
from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.train import train_genome

torch.set_num_threads(1)
GRU = load_file(Path(__file__).parents[1] / "examples" / "genotypes" / "gru.gene").genomes[0]


def losses_fall(result):
    return result.history[-1]["train_loss_epoch"] < result.history[0]["train_loss_epoch"]


def test_ucr_bundled_set_trains_and_scores_accuracy():
    data = get_task("ucr")(dataset="ItalyPowerDemand")
    x, lengths, y = data.train
    assert x.shape[1:] == (24, 1) and data.num_classes == 2 and (lengths == 24).all()
    assert len(data.test[0]) == 1029 and len(x) + len(data.val[0]) == 67
    r = train_genome(GRU, TaskConfig("ucr", dataset="ItalyPowerDemand", batch_size=8), ModelConfig(hidden=8),
                     epochs=4, lr=0.01, test=True)
    assert losses_fall(r)
    assert 0.0 <= r.metrics["val_acc"] <= 1.0 and 0.0 <= r.metrics["test_acc"] <= 1.0


def write_ts(path: Path, rows: list[tuple[list[float], str]]) -> None:
    head = ["@problemName Toy", "@timeStamps false", "@missing false", "@univariate true",
            "@equalLength false", "@classLabel true up down", "@data"]
    path.write_text("\n".join(head + [",".join(map(str, s)) + f":{c}" for s, c in rows]) + "\n")


def test_ucr_from_a_ts_file_keeps_unequal_lengths(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        n = int(rng.integers(5, 12))
        up = i % 2 == 0
        rows.append(((np.arange(n) * (1 if up else -1) + rng.normal(0, 0.1, n)).round(3).tolist(),
                     "up" if up else "down"))
    (tmp_path / "Toy").mkdir()
    write_ts(tmp_path / "Toy" / "Toy_TRAIN.ts", rows)
    write_ts(tmp_path / "Toy" / "Toy_TEST.ts", rows[:10])
    data = get_task("ucr")(root=str(tmp_path), dataset="Toy")
    lengths = torch.cat([data.train[1], data.val[1]])
    assert sorted(lengths.tolist()) == sorted(len(s) for s, _ in rows)
    x = data.train[0]
    for i, n in enumerate(data.train[1].tolist()):
        assert (x[i, n:] == 0).all()          # padding stays zero after standardisation
    assert data.labels == ["down", "up"]
    r = train_genome(GRU, TaskConfig("ucr", root=str(tmp_path), dataset="Toy", batch_size=8),
                     ModelConfig(hidden=8), epochs=5, lr=0.02)
    assert losses_fall(r)
    with pytest.raises(DataError):
        get_task("ucr")(root=str(tmp_path), dataset="Missing")
    with pytest.raises(DataError) as e:
        get_task("ucr")(dataset="ItalyPowerDmand")
    assert "ItalyPowerDemand" in e.value.diagnostics[0].hint


def test_forecast_windows_are_chronological_and_standardised():
    data = get_task("forecast")(dataset="sunspots", window=12)
    x, lengths, y = data.train
    assert x.shape[1:] == (12, 1) and y.shape[1:] == (1,)
    # each target is the value right after its window
    assert torch.equal(x[1, -1, 0], y[0, 0])
    # val targets follow the train targets in time: 70/15/15 of 309 yearly values
    assert len(y) == int(0.7 * 309) - 12 and len(data.val[2]) == int(0.15 * 309)
    full = torch.cat([data.train[2], data.val[2], data.test[2]])[:, 0]
    assert abs(float(data.train[2].mean())) < 0.2          # standardised on the training part
    assert len(full) == 309 - 12


def test_forecast_trains_on_a_csv_and_reports_mse(tmp_path):
    t = np.arange(200)
    csv = tmp_path / "series.csv"
    csv.write_text("t,value\n" + "\n".join(f"{i},{np.sin(i / 5):.5f}" for i in t))
    r = train_genome(GRU, TaskConfig("forecast", root=str(csv), batch_size=16), ModelConfig(hidden=8),
                     epochs=4, lr=0.02, test=True)
    assert losses_fall(r)
    assert r.metrics["val_mse"] >= 0 and r.metrics["score"] == -r.metrics["val_mse"]
    assert r.metrics["test_mae"] >= 0
    with pytest.raises(DataError):
        get_task("forecast")(root=str(tmp_path / "none.csv"))
    with pytest.raises(DataError):
        get_task("forecast")(dataset="tides")
