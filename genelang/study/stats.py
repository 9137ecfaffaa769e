"""Statistics for comparing genotypes over seeds: summaries with t-based 95%
confidence intervals, Welch's t-test, Mann–Whitney U, Holm's correction and
Cohen's d. Thin wrappers over scipy so the numbers are scipy's."""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from statistics import mean, stdev

from scipy import stats


@dataclass(frozen=True)
class Summary:
    label: str
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Pairwise:
    a: str
    b: str
    diff: float          # mean(a) − mean(b)
    welch_p: float
    mannwhitney_p: float
    welch_p_holm: float
    mannwhitney_p_holm: float
    cohens_d: float


MIN_N_FOR_CI = 3   # below this a t interval is too wide (t = 12.7 at n = 2) to say anything


def summarize(label: str, values: list[float], bounds: tuple[float, float] | None = None) -> Summary:
    """Mean, std and a t-based 95% CI of the mean; the CI is NaN for fewer than
    MIN_N_FOR_CI values, and clipped to `bounds` (e.g. (0, 1) for an accuracy)."""
    n = len(values)
    m = mean(values)
    sd = stdev(values) if n > 1 else 0.0
    if n < MIN_N_FOR_CI:
        return Summary(label, n, m, sd, math.nan, math.nan)
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    low, high = m - half, m + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return Summary(label, n, m, sd, low, high)


def cohens_d(a: list[float], b: list[float]) -> float:
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return math.nan
    pooled = math.sqrt(((na - 1) * stdev(a) ** 2 + (nb - 1) * stdev(b) ** 2) / (na + nb - 2))
    return (mean(a) - mean(b)) / pooled if pooled > 0 else math.nan


def holm(pvalues: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        p = pvalues[i]
        value = min(1.0, (m - rank) * p) if not math.isnan(p) else math.nan
        running = max(running, value) if not math.isnan(value) else running
        adjusted[i] = running if not math.isnan(value) else math.nan
    return adjusted


def pairwise(groups: dict[str, list[float]]) -> list[Pairwise]:
    pairs = list(combinations(groups, 2))
    welch, mwu = [], []
    for a, b in pairs:
        x, y = groups[a], groups[b]
        if len(x) > 1 and len(y) > 1 and (stdev(x) > 0 or stdev(y) > 0):
            welch.append(float(stats.ttest_ind(x, y, equal_var=False).pvalue))
        else:
            welch.append(math.nan)
        mwu.append(float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue) if x and y else math.nan)
    welch_h, mwu_h = holm(welch), holm(mwu)
    return [Pairwise(a, b, mean(groups[a]) - mean(groups[b]), welch[k], mwu[k], welch_h[k], mwu_h[k],
                     cohens_d(groups[a], groups[b]))
            for k, (a, b) in enumerate(pairs)]
