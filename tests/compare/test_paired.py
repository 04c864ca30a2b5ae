"""McNemar, Newcombe, Wilson, DeLong and order-statistic bounds against references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from ml_ci.compare import paired
from tests.compare.helpers import binary_scores


@pytest.mark.parametrize(
    ("b", "c"), [(3, 11), (0, 5), (40, 40), (17, 2), (120, 95), (1000, 1200), (50_000, 49_300)]
)
def test_exact_mcnemar_equals_scipy_binomtest_and_statsmodels(b: int, c: int) -> None:
    counts = paired.PairedCounts(both=50, cand_only=c, base_only=b, neither=9)
    got = paired.mcnemar_exact_p(counts)
    # lgamma of ~1e5 carries ~1e-10 absolute error in the log: 1e-8 relative at large counts
    rel = 1e-10 if b + c < 10_000 else 1e-8
    assert got == pytest.approx(binomtest(c, b + c, 0.5).pvalue, rel=rel)
    table = [[50, b], [c, 9]]
    assert got == pytest.approx(mcnemar(table, exact=True).pvalue, rel=rel)


def test_paired_counts_from_rows() -> None:
    base = np.array([1, 1, 0, 0, 1], dtype=bool)
    cand = np.array([1, 0, 1, 0, 1], dtype=bool)
    assert paired.PairedCounts.of(base, cand) == paired.PairedCounts(2, 1, 1, 1)


@pytest.mark.parametrize(("k", "n"), [(0, 20), (7, 20), (20, 20), (312, 500)])
def test_wilson_equals_statsmodels(k: int, n: int) -> None:
    low, high = paired.wilson(k, n, norm.ppf(0.975))
    ref = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert (low, high) == pytest.approx(ref, abs=1e-12)


def test_newcombe_interval_covers_at_the_nominal_rate() -> None:
    """Coverage of the 95% Newcombe interval for a paired difference (simulation, n=80)."""
    rng = np.random.default_rng(11)
    probs = [0.55, 0.15, 0.08, 0.22]  # both, cand only, base only, neither
    truth = probs[1] - probs[2]
    tables = rng.multinomial(80, probs, size=3000)
    z = norm.ppf(0.975)
    covered = 0
    for a, b, c, d in tables:
        low, high = paired.newcombe_paired(paired.PairedCounts(a, b, c, d), z)
        covered += low <= truth <= high
    rate = covered / len(tables)
    mc = math.sqrt(0.95 * 0.05 / len(tables))
    assert (
        0.95 - 4 * mc <= rate <= 0.95 + 4 * mc + 0.01
    )  # score intervals are slightly conservative


def test_newcombe_is_inside_minus_one_one_and_contains_the_estimate() -> None:
    counts = paired.PairedCounts(14, 5, 0, 22)  # Altman et al. (2000), Table 6.2
    low, high = paired.newcombe_paired(counts, norm.ppf(0.975))
    assert -1 <= low < 5 / 41 < high <= 1
    assert low > 0  # the exact McNemar test (p = 0.0625) is borderline; the score CI excludes 0


def _slow_delong(y: np.ndarray, scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Reference: DeLong et al. (1988) with the explicit psi kernel, O(m n)."""
    pos, neg = y == 1, y == 0
    v10, v01, aucs = [], [], []
    for s in scores:
        diff = s[pos][:, None] - s[neg][None, :]
        psi = (diff > 0) + 0.5 * (diff == 0)
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    return np.array(aucs), s10 / pos.sum() + s01 / neg.sum()


@pytest.mark.parametrize(("n", "decimals"), [(300, 2), (901, None), (60, 1)])
def test_fast_delong_equals_slow_reference(n: int, decimals: int | None) -> None:
    y, sb, sc = binary_scores(n, n, decimals=decimals)
    aucs, cov = _slow_delong(y, [sb, sc])
    comps = [paired.delong_components(s, y, np.argsort(s)) for s in (sb, sc)]
    delta, cand, p = paired.delong_pair(comps[0], comps[1])
    assert comps[0][0] == pytest.approx(aucs[0], rel=1e-12)
    assert cand.value == pytest.approx(aucs[1], rel=1e-12)
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    moments = paired.delong_moments(comps[0], comps[1])
    assert moments.se_delta == pytest.approx(math.sqrt(var), rel=1e-9)
    assert moments.var_c == pytest.approx(cov[1, 1], rel=1e-9)
    assert moments.cov == pytest.approx(cov[0, 1], rel=1e-9)
    # the gate's interval (logit-scale MOVER) and its p-value agree by construction, and
    # are close to the Wald ones (same DeLong variances, a skewed shape)
    assert p == pytest.approx(min(1, 2 * min(delta.p_above(0.0), delta.p_below(0.0))))
    wald_p = 2 * norm.sf(abs(aucs[1] - aucs[0]) / math.sqrt(var))
    assert abs(p - wald_p) < 0.05
    low, high = delta.interval(0.05)
    assert low < moments.delta < high
    assert (high - low) == pytest.approx(2 * 1.959964 * math.sqrt(var), rel=0.3)


def test_logit_mover_interval_reduces_to_the_logit_interval_without_a_baseline_spread() -> None:
    """With var_b = 0 the MOVER interval of A_c - A_b is the candidate's own logit-scale
    interval shifted by -A_b; the logit interval is expit(logit A -+ z SE / (A (1 - A)))."""
    from scipy.special import expit, logit

    mo = paired.DeLongMoments(0.8, 0.93, 0.0, 0.0004, 0.0)
    low, high = paired.mover_auc_difference(mo, 1.959964)
    own = paired.logit_interval(0.93, 0.0004, 1.959964)
    assert (low, high) == pytest.approx((own[0] - 0.8, own[1] - 0.8), rel=1e-12)
    half = 1.959964 * 0.02 / (0.93 * 0.07)
    assert own == pytest.approx((expit(logit(0.93) - half), expit(logit(0.93) + half)))
    assert own[1] < 1 and 0.93 - own[0] > own[1] - 0.93  # skewed away from 1


def test_quantile_bounds_and_p_values_agree_and_cover() -> None:
    rng = np.random.default_rng(3)
    true_p95 = float(np.quantile(rng.gamma(4.0, 10.0, 2_000_000), 0.95))
    misses = 0
    for _ in range(300):
        x = np.sort(rng.gamma(4.0, 10.0, 400))
        est = paired.QuantileEstimate(float(np.quantile(x, 0.95)), x, 0.95, "column")
        upper = est.upper(0.05)
        misses += upper < true_p95
        for m in (upper * 0.999, upper * 1.001, float(x[200])):
            assert (est.p_below(m) <= 0.05) == (upper < m)
    # one-sided 95% upper bound: misses ~ Binomial(300, <= 0.05)
    assert misses <= 300 * 0.05 + 3 * math.sqrt(300 * 0.05 * 0.95)
