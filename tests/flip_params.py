"""Plugin estimators for tests: the parameter count as fitness (larger is
fitter), and one that always fails."""
from genelang.evolve.estimators import register_estimator


@register_estimator("flipped-params")
def flipped(c) -> float:
    return float(c.metrics["params"])


@register_estimator("always-fails")
def always_fails(c) -> float:
    raise RuntimeError("this estimator always fails")
