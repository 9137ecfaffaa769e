"""A learned performance predictor over a search's genomes (BANANAS/NPENAS,
sophius): genomes as one-hot codes of the symbol at each position that can
vary, a regression model from codes to fitness. Models are sklearn's:
`ridge`, `gbm` (gradient boosting), `forest`, `mlp` (an ensemble of five small
MLPs, as BANANAS uses). Which one earns its place is measured
(`bench/bench_nb201_strategies.py`), not assumed."""
from __future__ import annotations

import numpy as np

from genelang.evolve.genome.codec import Codec

MODELS = ("ridge", "gbm", "forest", "mlp")


def _model(kind: str, seed: int):
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge
    if kind == "ridge":
        return Ridge(alpha=1.0)
    if kind == "gbm":
        return GradientBoostingRegressor(n_estimators=100, max_depth=3, learning_rate=0.1, random_state=seed)
    if kind == "forest":
        return RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    if kind == "mlp":
        return _MLPEnsemble(seed)
    raise ValueError(f"unknown predictor {kind!r}; choose from {', '.join(MODELS)}")


class _MLPEnsemble:
    def __init__(self, seed: int, members: int = 5):
        from sklearn.neural_network import MLPRegressor
        self.nets = [MLPRegressor(hidden_layer_sizes=(32, 32), max_iter=400, random_state=seed + i) for i in range(members)]

    def fit(self, X, y):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # small data: convergence warnings are expected
            for n in self.nets:
                n.fit(X, y)
        return self

    def predict(self, X):
        return np.mean([n.predict(X) for n in self.nets], axis=0)


class Surrogate:
    def __init__(self, codec: Codec, kind: str = "gbm", seed: int = 0):
        self.codec, self.kind, self.seed = codec, kind, seed
        cols = codec.free_columns
        # (column, symbol id) pairs of the one-hot code
        self.pairs = [(c, int(s)) for c in cols for s in codec.domain[c, : codec.domain_size[c]]]
        self._cols = np.array([c for c, _ in self.pairs], dtype=np.int64)
        self._ids = np.array([s for _, s in self.pairs], dtype=np.int64)
        self.model = None

    def features(self, rows: np.ndarray) -> np.ndarray:
        return (rows[:, self._cols] == self._ids[None, :]).astype(np.float32)

    def fit(self, rows: np.ndarray, y: np.ndarray) -> "Surrogate":
        y = np.asarray(y, dtype=np.float64)
        self._mu, self._sd = float(y.mean()), float(y.std()) or 1.0
        self.model = _model(self.kind, self.seed).fit(self.features(rows), (y - self._mu) / self._sd)
        return self

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.model.predict(self.features(rows)) * self._sd + self._mu
