"""Plugin estimators for tests: the parameter count as fitness (larger is
fitter), and one that always fails."""
from genelang.evolve.estimators import register_estimator


@register_estimator("flipped-params")
def flipped(c) -> float:
    return float(c.metrics["params"])


@register_estimator("always-fails")
def always_fails(c) -> float:
    raise RuntimeError("this estimator always fails")


@register_estimator("blind", builds_model=False)
def blind(c) -> float:
    """Builds no network and reports no costs (so nothing can check a max_params)."""
    return 1.0
