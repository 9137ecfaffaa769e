"""What the project's own measurements say of an estimator's ranking, per
space: Kendall τ against ground truth beside the parameter count's τ
measured the same way (bench/RESULTS.md). `spec check` and `evolve` name an
estimator that ranked below the parameter count — free, and then better —
so a user sees which estimator to trust at which price (docs/proxies.md)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    space: str
    estimator: str
    tau: float                  # Kendall τ of the estimator against the ground truth
    params_tau: float           # the parameter count's τ on the same truth
    truth: str                  # what the ground truth is

    def note(self) -> str:
        return (f"on the {self.space} space '{self.estimator}' ranked below the parameter count "
                f"(Kendall τ {self.tau:.2f} vs {self.params_tau:.2f}, {self.truth}; bench/RESULTS.md): "
                f"consider fitness.estimator: param-count, or an ensemble")


_CONV = "50 random genomes of quick.yaml's space trained alone 3 epochs"
_NB201 = "1,000 NAS-Bench-201 cells, real CIFAR-10 minibatches, the table's validation accuracy"
_NB201_SN = ("1,000 NAS-Bench-201 cells, the table's validation accuracy; a C=8 N=1 supernet on 16×16 real "
             "CIFAR-10, 12,000 paths on one CPU core, the best of uniform, distinct, few-shot and ensembles")
# measured, not assumed: each row is a table of bench/RESULTS.md (2026-11-24 and 2026-12-06)
MEASURED = (
    Evidence("conv", "supernet", 0.296, 0.446, _CONV + "; strict-fair, share cell, 15,000 paths"),
    Evidence("conv", "naswot", 0.339, 0.446, _CONV),
    Evidence("conv", "meco", 0.431, 0.446, _CONV),
    Evidence("nb201", "snip", 0.429, 0.545, _NB201),
    Evidence("nb201", "grad_norm", 0.422, 0.545, _NB201),
    Evidence("nb201", "supernet", 0.429, 0.546, _NB201_SN),
)


def below_params(space: str, estimator: str) -> Evidence | None:
    """The measurement that put `estimator` below the parameter count on `space`, if any."""
    return next((e for e in MEASURED if e.space == space and e.estimator == estimator), None)
