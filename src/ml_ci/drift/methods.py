"""Drift statistics: one function per statistic, pure numpy/scipy, no I/O.

Numeric columns are compared through their sorted values (one sort per column and table; the
merged empirical CDFs are shared by KS and Wasserstein). Categorical and binary columns are
compared through their category counts. Notation: ``r`` is the reference sample (size n),
``c`` the current sample (size m), F_r and F_c their empirical CDFs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.int64]

# Proportion that replaces an empty bin in PSI (ln(0) is undefined). 1e-4 is small next to any
# bin of a 10-bin split (>= 0.1 in the reference) and keeps one empty bin's term below ~1.
PSI_EPSILON = 1e-4

# Above this size scipy's exact KS p-value becomes slow; scipy itself switches to the asymptotic
# distribution there (ks_2samp method="auto" uses the same limit).
KS_EXACT_MAX_N = 10_000


@dataclass(frozen=True)
class MergedEcdf:
    """Both empirical CDFs evaluated on the merged sorted sample.

    ``values`` is r and c merged and sorted; ``gap[i] = F_r(values[i]) - F_c(values[i])``,
    counting every element up to position i; ``last[i]`` marks the last of a run of equal
    values, where the CDFs take their right-continuous value.
    """

    values: FloatArray
    gap: FloatArray
    last: npt.NDArray[np.bool_]


def merged_ecdf(ref_sorted: FloatArray, cur_sorted: FloatArray) -> MergedEcdf:
    """Merge two sorted samples and track both CDFs along the merge.

    A stable argsort of the concatenation merges the two runs (timsort finds them and merges in
    linear time) and keeps the reference first among ties; the CDF gap follows from running
    counts of reference elements.
    """
    n, m = len(ref_sorted), len(cur_sorted)
    both = np.concatenate([ref_sorted, cur_sorted])
    order = np.argsort(both, kind="stable")
    from_ref = order < n
    values = both[order]
    del both, order
    # F_r - F_c after k elements, i of them from the reference: i/n - (k - i)/m
    gap = np.cumsum(from_ref, dtype=np.int64).astype(np.float64)
    gap *= 1 / n + 1 / m
    gap -= np.arange(1, n + m + 1, dtype=np.float64) * (1 / m)
    last = np.empty(n + m, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=last[:-1])
    last[-1] = True
    return MergedEcdf(values=values, gap=gap, last=last)


def ks_statistic(ecdf: MergedEcdf) -> float:
    """Two-sample Kolmogorov-Smirnov distance D = sup_x |F_r(x) - F_c(x)|, in [0, 1]."""
    gap, last = ecdf.gap, ecdf.last
    # max and min with where= rather than gap[last]: no copy of an (n + m)-sized array
    highest = gap.max(where=last, initial=-np.inf)
    lowest = gap.min(where=last, initial=np.inf)
    return float(max(highest, -lowest))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Two-sided p-value of D, as scipy's ``ks_2samp(method="asymp")``.

    Smirnov's asymptotic distribution: p = P(D_{en} >= d) with en = round(n·m / (n + m)),
    evaluated with ``scipy.stats.kstwo``.
    """
    from scipy.stats import kstwo

    big, small = max(n, m), min(n, m)
    en = float(big) * small / (big + small)
    return float(np.clip(kstwo.sf(statistic, np.round(en)), 0.0, 1.0))


def ks_test(
    ref_sorted: FloatArray, cur_sorted: FloatArray, ecdf: MergedEcdf
) -> tuple[float, float]:
    """KS statistic and p-value; the exact p-value (scipy) up to 10,000 rows, asymptotic above."""
    n, m = len(ref_sorted), len(cur_sorted)
    if max(n, m) <= KS_EXACT_MAX_N:
        from scipy.stats import ks_2samp

        result = ks_2samp(ref_sorted, cur_sorted)
        return float(result.statistic), float(result.pvalue)
    statistic = ks_statistic(ecdf)
    return statistic, ks_p_value(statistic, n, m)


def wasserstein(ecdf: MergedEcdf) -> float:
    """First Wasserstein (earth mover's) distance W1 = ∫ |F_r(x) - F_c(x)| dx.

    On the merged sample the CDFs are constant between consecutive values, so
    W1 = Σ_i |gap_i| · (values_{i+1} - values_i); equal values contribute zero width.
    """
    widths = np.diff(ecdf.values)
    return float(np.dot(np.abs(ecdf.gap[:-1]), widths))


def std(values: FloatArray) -> float:
    """Population standard deviation (``np.std``), computed on values scaled by their largest
    magnitude so that squares of values near 1e308 do not overflow."""
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    if scale == 0.0 or not math.isfinite(scale):
        return float(np.std(values))
    return float(np.std(values / scale)) * scale


def wasserstein_normed(ecdf: MergedEcdf, ref_std: float) -> float:
    """W1 / std(r): the distance in reference standard deviations (a location shift of d
    standard deviations gives d). A constant reference (std 0) gives 0 if nothing moved, and
    +inf otherwise."""
    distance = wasserstein(ecdf)
    if ref_std > 0:
        return distance / ref_std
    return 0.0 if distance == 0 else math.inf


def quantile_edges(ref_sorted: FloatArray, bins: int) -> FloatArray:
    """Inner edges of ``bins`` quantile bins of the reference (duplicates dropped, so a column
    with heavy ties gets fewer bins). Bins are (-inf, e1], (e1, e2], ..., (e_k, +inf)."""
    # np.quantile's default ("linear") read straight off the sorted sample: position
    # p (n - 1), interpolated; np.quantile itself would partition a copy of the column
    positions = np.linspace(0.0, 1.0, bins + 1)[1:-1] * (len(ref_sorted) - 1)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, len(ref_sorted) - 1)
    fraction = positions - below
    quantiles = ref_sorted[below] + fraction * (ref_sorted[above] - ref_sorted[below])
    edges: FloatArray = np.unique(quantiles)
    return edges


def bin_counts(sorted_values: FloatArray, edges: FloatArray) -> CountArray:
    """Counts of a sorted sample in the bins defined by ``edges`` (right-closed)."""
    cuts = np.searchsorted(sorted_values, edges, side="right")
    bounds = np.concatenate([[0], cuts, [len(sorted_values)]])
    counts: CountArray = np.diff(bounds).astype(np.int64)
    return counts


def psi(ref_counts: CountArray, cur_counts: CountArray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index PSI = Σ_b (c_b - r_b) · ln(c_b / r_b).

    r_b, c_b are the bin (or category) proportions; a zero proportion is replaced by ``epsilon``.
    Equivalently PSI = KL(c‖r) + KL(r‖c) (the symmetric Kullback-Leibler divergence).
    """
    r = np.maximum(ref_counts / max(int(ref_counts.sum()), 1), epsilon)
    c = np.maximum(cur_counts / max(int(cur_counts.sum()), 1), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def chi_square(ref_counts: CountArray, cur_counts: CountArray) -> tuple[float, float, float]:
    """Pearson's chi-square test of homogeneity on the 2 x K table of category counts.

    Returns (chi2, p_value, Cramér's V) with V = sqrt(chi2 / (N · (min(2, K) - 1))), N the total
    count. No Yates correction, so that chi2 = z² of the two-proportion test when K = 2.
    Categories absent from both samples are dropped; one category left gives (0, 1, 0).
    """
    from scipy.stats import chi2_contingency

    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0, 0.0
    result = chi2_contingency(table, correction=False)
    statistic = float(result.statistic)
    cramers_v = math.sqrt(statistic / (table.sum() * (min(table.shape) - 1)))
    return statistic, float(result.pvalue), cramers_v


def jensen_shannon(ref_counts: CountArray, cur_counts: CountArray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between the category distributions:
    sqrt((KL(r‖M) + KL(c‖M)) / 2 / ln 2) with M = (r + c) / 2 and 0·ln 0 = 0; equal to
    ``scipy.spatial.distance.jensenshannon(r, c, base=2)`` (a test), without importing
    scipy.spatial (0.4 s)."""
    r = ref_counts / ref_counts.sum()
    c = cur_counts / cur_counts.sum()
    mixture = (r + c) / 2

    def kl_to_mixture(p: FloatArray) -> float:
        present = p > 0  # where p > 0 the mixture is > 0 too
        return float(np.sum(p[present] * np.log(p[present] / mixture[present])))

    divergence = (kl_to_mixture(r) + kl_to_mixture(c)) / 2 / math.log(2)
    return math.sqrt(max(divergence, 0.0))  # rounding can leave -1e-17 for equal inputs


def proportion_z_test(
    ref_positive: int, ref_total: int, cur_positive: int, cur_total: int
) -> tuple[float, float]:
    """Two-proportion z-test with the pooled proportion (statsmodels ``proportions_ztest``).

    z = (p_r - p_c) / sqrt(p (1 - p) (1/n + 1/m)), p = (k_r + k_c) / (n + m); two-sided
    p-value 2·(1 - Φ(|z|)). Identical proportions of 0 or 1 give (0, 1).
    """
    from scipy.stats import norm

    p_ref, p_cur = ref_positive / ref_total, cur_positive / cur_total
    pooled = (ref_positive + cur_positive) / (ref_total + cur_total)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / ref_total + 1 / cur_total))
    if spread == 0:
        return 0.0, 1.0
    z = (p_ref - p_cur) / spread
    return z, float(2 * norm.sf(abs(z)))


def cohens_h(p_ref: float, p_cur: float) -> float:
    """Cohen's h = |2·asin(sqrt(p_c)) - 2·asin(sqrt(p_r))|: a difference of proportions on the
    variance-stabilised (arcsine) scale, so 0.1 means the same at 2 % as at 50 %.
    Cohen's benchmarks: 0.2 small, 0.5 medium, 0.8 large."""
    return abs(2 * math.asin(math.sqrt(p_cur)) - 2 * math.asin(math.sqrt(p_ref)))
