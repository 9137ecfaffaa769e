"""Time-series tasks for recurrent genomes (the optional `timeseries` extra:
sktime and statsmodels, whose bundled data needs no download).

- `ucr`: classification of UCR/UEA series. `--dataset` names one of sktime's
  bundled sets (default ItalyPowerDemand) or, with `--root DIR`, any set
  extracted there as DIR/<Name>/<Name>_TRAIN.ts and _TEST.ts. The validation
  set is a seeded random 20% of the training set; the test set
  is the archive's own.
- `forecast`: one-step-ahead forecasting of a univariate series from the
  previous `window` values. `--dataset` names a statsmodels series (sunspots,
  the default; nile; elnino; co2) or sktime's airline; `--root FILE.csv` reads
  the last numeric column of a CSV. The split is chronological (70/15/15),
  values are standardised with the training part's statistics, and errors are
  reported in those standardised units (val_mse, val_mae).

Both return `SeriesData`, which the sequence runtime treats like text data
with dense inputs: `x` is [N, T, channels] float, lengths are T.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genelang.errors import DataError
from genelang.runtime.tasks import register_task
from genelang.suggest import with_hint

UCR_BUNDLED = {"ArrowHead": "load_arrow_head", "BasicMotions": "load_basic_motions",
               "GunPoint": "load_gunpoint", "ItalyPowerDemand": "load_italy_power_demand",
               "JapaneseVowels": "load_japanese_vowels", "OSULeaf": "load_osuleaf"}
SERIES = ("sunspots", "nile", "elnino", "co2", "airline")


@dataclass
class SeriesData:
    kind: str                                   # "classify" | "forecast"
    train: tuple[torch.Tensor, ...]             # (x [N,T,C], lengths [N], targets)
    val: tuple[torch.Tensor, ...]
    test: tuple[torch.Tensor, ...]
    num_classes: int                            # classes, or forecast horizon
    labels: list[str]
    input_size: int
    name: str = ""
    vocab: list[str] = field(default_factory=list)
    embeddings: torch.Tensor | None = None


def _need(module: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise DataError.at("task", f"time-series tasks need {module.split('.')[0]}", "task=",
                           hint="install the extra: pip install 'genelang[timeseries]'") from None


def _triple(x: np.ndarray, y: torch.Tensor, lengths: np.ndarray | None = None) -> tuple[torch.Tensor, ...]:
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    n = torch.full((len(t),), t.shape[1], dtype=torch.long) if lengths is None else torch.from_numpy(lengths)
    return t, n, y


def _padded(nested) -> tuple[np.ndarray, np.ndarray]:
    """sktime's nested frame (a pandas Series per instance and channel) as
    [N, C, T_max], zero-padded at the end, and each instance's length: some
    UCR/UEA sets (JapaneseVowels) have series of unequal length."""
    cells = [[np.asarray(nested.iat[i, c], dtype=np.float64) for c in range(nested.shape[1])]
             for i in range(nested.shape[0])]
    lengths = np.array([min(len(s) for s in row) for row in cells], dtype=np.int64)
    out = np.zeros((len(cells), nested.shape[1], int(lengths.max())))
    for i, row in enumerate(cells):
        for c, s in enumerate(row):
            out[i, c, :lengths[i]] = np.nan_to_num(s[:lengths[i]])
    return out, lengths


def _ucr_arrays(dataset: str, root: str | None, split: str):
    """(X [N, C, T], lengths, y) from sktime's bundled copy or from ROOT."""
    datasets = _need("sktime.datasets")
    if root:
        base = Path(root)
        ts = base / dataset / f"{dataset}_{split.upper()}.ts"
        if not ts.exists():
            raise DataError.at("data", f"{dataset} not found", str(base / dataset),
                               hint=f"expected {dataset}_TRAIN.ts and {dataset}_TEST.ts there")
        try:
            x, y = datasets.load_from_tsfile(str(ts), return_data_type="nested_univ")
        except Exception as err:
            raise DataError.at("data", f"{ts.name} unreadable ({err})", str(ts)) from None
        return (*_padded(x), y)
    if dataset not in UCR_BUNDLED:
        raise DataError.at("data", f"{dataset!r} is not bundled with sktime", "dataset=",
                           hint=with_hint(dataset, UCR_BUNDLED, f"bundled: {', '.join(UCR_BUNDLED)}; or give a "
                                          f"root holding {dataset}/{dataset}_TRAIN.ts"))
    x, y = getattr(datasets, UCR_BUNDLED[dataset])(split=split, return_type="nested_univ")
    return (*_padded(x), y)


@register_task("ucr", "sequence")
def ucr(root: str | None = None, dataset: str | None = None, val: float = 0.2, seed: int = 0,
        **_) -> SeriesData:
    dataset = dataset or "ItalyPowerDemand"
    x_tr, n_tr, y_tr = _ucr_arrays(dataset, root, "train")
    x_te, n_te, y_te = _ucr_arrays(dataset, root, "test")
    if x_te.shape[2] < x_tr.shape[2]:   # one width for both, so a model sees the same steps
        x_te = np.pad(x_te, ((0, 0), (0, 0), (0, x_tr.shape[2] - x_te.shape[2])))
    labels = sorted(set(map(str, y_tr)) | set(map(str, y_te)))
    index = {c: i for i, c in enumerate(labels)}
    to_y = lambda ys: torch.tensor([index[str(c)] for c in ys], dtype=torch.long)
    valid = np.arange(x_tr.shape[2])[None, None, :] < n_tr[:, None, None]     # statistics over real steps
    mean = (x_tr * valid).sum(axis=(0, 2), keepdims=True) / (valid.sum() + 1e-9)
    std = np.sqrt((((x_tr - mean) * valid) ** 2).sum(axis=(0, 2), keepdims=True) / (valid.sum() + 1e-9)) + 1e-6

    def to_x(xs: np.ndarray, n: np.ndarray) -> np.ndarray:
        z = (xs - mean) / std * (np.arange(xs.shape[2])[None, None, :] < n[:, None, None])
        return z.transpose(0, 2, 1)                                         # N×C×T → N×T×C
    train, test = _triple(to_x(x_tr, n_tr), to_y(y_tr), n_tr), _triple(to_x(x_te, n_te), to_y(y_te), n_te)
    perm = torch.randperm(len(train[0]), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, int(val * len(perm)))
    pick = lambda idx: tuple(t[idx] for t in train)
    return SeriesData("classify", pick(perm[n_val:]), pick(perm[:n_val]), test, len(labels), labels,
                      input_size=x_tr.shape[1], name=f"ucr:{dataset}")


def _series(dataset: str, root: str | None) -> np.ndarray:
    if root:
        path = Path(root)
        if not path.is_file():
            raise DataError.at("data", "series file not found", str(path), hint="a CSV with a numeric last column")
        import pandas as pd
        try:
            frame = pd.read_csv(path)
            values = pd.to_numeric(frame.iloc[:, -1], errors="coerce").dropna().to_numpy()
        except Exception as err:
            raise DataError.at("data", f"unreadable CSV ({err})", str(path)) from None
        return values
    if dataset == "airline":
        return _need("sktime.datasets").load_airline().to_numpy()
    if dataset not in SERIES:
        raise DataError.at("data", f"unknown series {dataset!r}", "dataset=",
                           hint=f"bundled: {', '.join(SERIES)}; or give a root that is a CSV file")
    sm = _need("statsmodels.datasets")
    frame = getattr(sm, dataset).load_pandas().data
    column = {"sunspots": "SUNACTIVITY", "nile": "volume", "co2": "co2"}.get(dataset)
    if dataset == "elnino":   # a year per row, months as columns
        return frame.drop(columns="YEAR").to_numpy().ravel()
    return frame[column].interpolate().dropna().to_numpy()


@register_task("forecast", "sequence")
def forecast(root: str | None = None, dataset: str | None = None, window: int = 24, **_) -> SeriesData:
    dataset = dataset or "sunspots"
    values = np.asarray(_series(dataset, root), dtype=np.float64)
    if len(values) < 3 * (window + 1) + 10:
        raise DataError.at("data", f"series too short: {len(values)} values for window {window}",
                           str(root or dataset))
    n_train, n_val = int(0.7 * len(values)), int(0.15 * len(values))
    mean, std = values[:n_train].mean(), values[:n_train].std() + 1e-9
    z = (values - mean) / std

    def windows(lo: int, hi: int) -> tuple[torch.Tensor, ...]:
        # targets in [lo, hi); their inputs may reach back before lo
        starts = np.arange(max(lo, window), hi) - window
        x = np.stack([z[s:s + window] for s in starts])[:, :, None]
        y = torch.from_numpy(z[starts + window].astype(np.float32))[:, None]
        return _triple(x, y)

    return SeriesData("forecast", windows(0, n_train), windows(n_train, n_train + n_val),
                      windows(n_train + n_val, len(z)), 1, [], input_size=1, name=f"forecast:{dataset}")
