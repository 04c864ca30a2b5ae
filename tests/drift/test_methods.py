"""Each drift statistic against scipy / statsmodels (or a worked example) on reference inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, contingency, entropy, ks_2samp, wasserstein_distance
from statsmodels.stats.proportion import proportion_effectsize, proportions_ztest

from ml_ci.drift import methods


def _sorted(values: np.ndarray) -> np.ndarray:
    return np.sort(values.astype(np.float64))


@pytest.mark.parametrize(
    ("n", "m", "shift"),
    [(300, 500, 0.0), (2000, 1500, 0.3), (30_000, 20_000, 0.05), (12_000, 12_000, 0.0)],
)
def test_ks_matches_scipy(n: int, m: int, shift: float) -> None:
    rng = np.random.default_rng(n + m)
    ref, cur = _sorted(rng.normal(0, 1, n)), _sorted(rng.normal(shift, 1, m))
    ecdf = methods.merged_ecdf(ref, cur)
    statistic, p_value = methods.ks_test(ref, cur, ecdf)
    expected = ks_2samp(ref, cur)  # "auto": exact up to 10,000 rows, asymptotic above
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert methods.ks_statistic(ecdf) == pytest.approx(expected.statistic, abs=1e-12)


def test_ks_with_heavy_ties_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    ref, cur = _sorted(rng.integers(0, 6, 20_000)), _sorted(rng.integers(0, 7, 15_000))
    ecdf = methods.merged_ecdf(ref, cur)
    expected = ks_2samp(ref, cur, method="asymp")
    assert methods.ks_statistic(ecdf) == pytest.approx(expected.statistic, abs=1e-12)
    assert methods.ks_p_value(methods.ks_statistic(ecdf), len(ref), len(cur)) == pytest.approx(
        expected.pvalue, rel=1e-9, abs=1e-300
    )


@pytest.mark.parametrize("integers", [False, True])
def test_wasserstein_matches_scipy(integers: bool) -> None:
    rng = np.random.default_rng(4)
    if integers:
        ref, cur = _sorted(rng.integers(0, 50, 3000)), _sorted(rng.integers(5, 60, 4500))
    else:
        ref, cur = _sorted(rng.gamma(2.0, 3.0, 3000)), _sorted(rng.gamma(2.5, 3.0, 4500))
    ecdf = methods.merged_ecdf(ref, cur)
    expected = wasserstein_distance(ref, cur)
    assert methods.wasserstein(ecdf) == pytest.approx(expected, rel=1e-10)
    normed = methods.wasserstein_normed(ecdf, float(np.std(ref)))
    assert normed == pytest.approx(expected / np.std(ref), rel=1e-10)


def test_normed_wasserstein_of_a_location_shift_is_the_shift_in_sds() -> None:
    ref = _sorted(np.random.default_rng(5).normal(10, 4, 5000))
    cur = ref + 0.25 * 4  # the same sample moved by a quarter of a standard deviation
    normed = methods.wasserstein_normed(methods.merged_ecdf(ref, cur), float(np.std(ref)))
    assert normed == pytest.approx(0.25 * 4 / np.std(ref), rel=1e-9)


def test_normed_wasserstein_of_a_constant_reference() -> None:
    ref = np.full(10, 3.0)
    assert methods.wasserstein_normed(methods.merged_ecdf(ref, ref.copy()), 0.0) == 0.0
    moved = methods.merged_ecdf(ref, np.full(10, 4.0))
    assert methods.wasserstein_normed(moved, 0.0) == math.inf


def test_psi_worked_example() -> None:
    # two bins, 50/50 -> 60/40: 0.1 ln(1.2) + (-0.1) ln(0.8) = 0.0405465
    assert methods.psi(np.array([50, 50]), np.array([60, 40])) == pytest.approx(
        0.1 * math.log(1.2) - 0.1 * math.log(0.8), rel=1e-12
    )
    assert methods.psi(np.array([50, 50]), np.array([60, 40])) == pytest.approx(0.0405465, abs=1e-7)


def test_psi_is_the_symmetric_kl_divergence_of_quantile_bins() -> None:
    rng = np.random.default_rng(6)
    ref, cur = _sorted(rng.normal(0, 1, 8000)), _sorted(rng.normal(0.4, 1.2, 6000))
    edges = methods.quantile_edges(ref, 10)
    assert np.allclose(edges, np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    ref_counts, cur_counts = methods.bin_counts(ref, edges), methods.bin_counts(cur, edges)
    # right-closed bins, as np.digitize(..., right=True) numbers them
    assert (ref_counts == np.bincount(np.digitize(ref, edges, right=True), minlength=10)).all()
    assert (cur_counts == np.bincount(np.digitize(cur, edges, right=True), minlength=10)).all()
    r, c = ref_counts / len(ref), cur_counts / len(cur)
    assert methods.psi(ref_counts, cur_counts) == pytest.approx(entropy(c, r) + entropy(r, c))


def test_psi_replaces_an_empty_bin_with_epsilon() -> None:
    ref, cur = np.array([50, 50]), np.array([100, 0])
    e = methods.PSI_EPSILON
    expected = (1 - 0.5) * math.log(1 / 0.5) + (e - 0.5) * math.log(e / 0.5)
    assert methods.psi(ref, cur) == pytest.approx(expected)


def test_chi_square_and_cramers_v_match_scipy() -> None:
    ref, cur = np.array([120, 80, 40, 10]), np.array([100, 90, 60, 30])
    table = np.vstack([ref, cur])
    expected = chi2_contingency(table, correction=False)
    statistic, p_value, cramers_v = methods.chi_square(ref, cur)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue)
    assert cramers_v == pytest.approx(contingency.association(table, method="cramer"))


def test_chi_square_drops_empty_categories_and_handles_one_category() -> None:
    with_empty = methods.chi_square(np.array([10, 0, 5]), np.array([12, 0, 9]))
    expected = chi2_contingency(np.array([[10, 5], [12, 9]]), correction=False)
    assert with_empty[0] == pytest.approx(expected.statistic)
    assert methods.chi_square(np.array([10, 0]), np.array([7, 0])) == (0.0, 1.0, 0.0)


def test_jensen_shannon_matches_scipy_and_is_bounded() -> None:
    ref, cur = np.array([30, 50, 20]), np.array([10, 40, 50])
    assert methods.jensen_shannon(ref, cur) == pytest.approx(
        jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2)
    )
    assert methods.jensen_shannon(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert methods.jensen_shannon(ref, ref * 3) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_jensen_shannon_matches_scipy_with_empty_categories(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref, cur = rng.integers(0, 1000, 12), rng.integers(0, 1000, 12)
    ref[rng.choice(12, 3, replace=False)] = 0  # categories unseen in the reference
    cur[rng.choice(12, 2, replace=False)] = 0  # and categories gone from the current data
    assert methods.jensen_shannon(ref, cur) == pytest.approx(
        jensenshannon(ref, cur, base=2), rel=1e-12
    )


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(300, 1000, 350, 1200), (12, 90, 30, 100)])
def test_proportion_z_test_matches_statsmodels(k1: int, n1: int, k2: int, n2: int) -> None:
    z, p_value = methods.proportion_z_test(k1, n1, k2, n2)
    expected_z, expected_p = proportions_ztest([k1, k2], [n1, n2])
    assert z == pytest.approx(expected_z)
    assert p_value == pytest.approx(expected_p)


def test_proportion_z_test_without_variance() -> None:
    assert methods.proportion_z_test(0, 50, 0, 80) == (0.0, 1.0)


def test_cohens_h_matches_statsmodels() -> None:
    for p1, p2 in [(0.5, 0.6), (0.02, 0.04), (0.9, 0.2)]:
        assert methods.cohens_h(p1, p2) == pytest.approx(abs(proportion_effectsize(p1, p2)))
    # Cohen's own benchmark: 0.5 vs 0.6 is about a "small" effect (0.2)
    assert methods.cohens_h(0.5, 0.6) == pytest.approx(0.2014, abs=1e-4)


@pytest.mark.parametrize("values", [[1.0, 2.0, 3.0, 4.0], [0.0] * 5 + [1.0] * 3, [7.0]])
def test_quantile_edges_match_numpy_on_small_and_tied_samples(values: list[float]) -> None:
    ref = np.array(values)
    expected = np.unique(np.quantile(ref, np.linspace(0, 1, 5)[1:-1]))
    assert np.allclose(methods.quantile_edges(ref, 4), expected)
