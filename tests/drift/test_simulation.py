"""Type-I error and power of the drift tests, by simulation.

Under "no drift" (both samples from one distribution) a test at alpha = 0.05 must reject in
about 5 % of the runs: the tolerance is three binomial standard errors. A column is flagged
only when its effect size passes the threshold AND its p-value is below alpha, so the false
flag rate of a column is at most alpha whatever the sample size; at small n the effect size
alone would flag far more often (checked too, so the p-value gate is shown to matter).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml_ci.config.drift import DriftConfig
from ml_ci.drift import methods
from ml_ci.drift.engine import analyse

ALPHA = 0.05


def _limit(runs: int) -> float:
    """alpha plus three binomial standard errors."""
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / runs)


def test_ks_asymptotic_p_value_holds_its_level() -> None:
    # 12,000 rows per side: above the exact limit, so the asymptotic p-value is the one used
    rng = np.random.default_rng(11)
    runs, n = 600, 12_000
    rejected = 0
    for _ in range(runs):
        ref, cur = np.sort(rng.normal(size=n)), np.sort(rng.normal(size=n))
        _, p_value = methods.ks_test(ref, cur, methods.merged_ecdf(ref, cur))
        rejected += p_value < ALPHA
    assert 0.02 < rejected / runs <= _limit(runs), rejected / runs


def test_chi_square_p_value_holds_its_level() -> None:
    rng = np.random.default_rng(12)
    shares = np.array([0.35, 0.25, 0.2, 0.1, 0.06, 0.04])
    runs, n = 1500, 3000
    rejected = 0
    for _ in range(runs):
        ref, cur = rng.multinomial(n, shares), rng.multinomial(n, shares)
        rejected += methods.chi_square(ref, cur)[1] < ALPHA
    assert 0.03 < rejected / runs <= _limit(runs), rejected / runs


def test_proportion_z_test_holds_its_level() -> None:
    rng = np.random.default_rng(13)
    runs, n = 1500, 2000
    hits = rng.binomial(n, 0.3, size=(runs, 2))
    rejected = sum(methods.proportion_z_test(a, n, b, n)[1] < ALPHA for a, b in hits)
    assert 0.03 < rejected / runs <= _limit(runs), rejected / runs


def _table(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "score": rng.normal(shift, 1.0, n),
            "city": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "churned": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize("n", [150, 1000])
def test_a_column_without_drift_is_flagged_at_most_alpha_of_the_time(n: int) -> None:
    rng = np.random.default_rng(n)
    runs = 300
    flagged = {"score": 0, "city": 0, "churned": 0}
    effect_alone = {"score": 0, "city": 0, "churned": 0}
    config = DriftConfig(correction="none")  # the per-column gate itself
    for _ in range(runs):
        section = analyse(_table(rng, n), _table(rng, n), config)
        for column in section.columns:
            flagged[column.column] += column.drifted
            effect_alone[column.column] += (column.value or 0.0) >= column.threshold
    for name, count in flagged.items():
        assert count / runs <= _limit(runs), (name, count / runs)
    if n == 150:  # at small n the effect size alone would flag often
        assert effect_alone["score"] / runs > 0.2, effect_alone


def test_a_planted_shift_is_found_almost_always() -> None:
    """Power: a 0.3 sd location shift at 2,000 rows (beyond the 0.25 sd significant level)."""
    rng = np.random.default_rng(21)
    runs = 100
    found = sum(
        analyse(_table(rng, 2000), _table(rng, 2000, shift=0.3), DriftConfig()).columns[0].drifted
        for _ in range(runs)
    )
    assert found / runs >= 0.95, found / runs


def test_new_extremes_follow_the_beta_binomial() -> None:
    """How many of m new values land above the maximum of n: simulation against scipy's
    beta-binomial(m, 1, n), the distribution out_of_range's p-value uses."""
    from scipy.stats import betabinom

    rng = np.random.default_rng(31)
    runs, n, m = 6000, 100, 100
    reference, current = rng.normal(size=(runs, n)), rng.normal(size=(runs, m))
    above = (current > reference.max(axis=1, keepdims=True)).sum(axis=1)
    for k in range(1, 5):
        expected = float(betabinom.sf(k - 1, m, 1, n))
        se = math.sqrt(expected * (1 - expected) / runs)
        assert abs(float((above >= k).mean()) - expected) < 4 * se, k


def test_chance_aware_quality_checks_hold_their_level() -> None:
    from ml_ci.drift.quality import new_extremes_p_value, unseen_p_value

    rng = np.random.default_rng(32)
    runs, n = 800, 300
    rejected = 0
    for _ in range(runs):
        reference, current = rng.lognormal(size=n), rng.lognormal(size=n)
        below = int((current < reference.min()).sum())
        above = int((current > reference.max()).sum())
        rejected += new_extremes_p_value(below, above, n, n) < ALPHA
    assert rejected / runs <= _limit(runs), rejected / runs  # Bonferroni: conservative

    # a Zipf long tail (new categories every time), and a short skewed list (rare ones)
    for categories, n, runs in ((2000, 300, 400), (10, 100, 400)):
        weights = 1 / np.arange(1, categories + 1) ** (1 if categories > 10 else 2)
        weights /= weights.sum()
        rejected = 0
        for seed in range(runs):
            reference = np.bincount(rng.choice(categories, n, p=weights), minlength=categories)
            current = np.bincount(rng.choice(categories, n, p=weights), minlength=categories)
            p_value = unseen_p_value(reference, current, permutations=199, seed=seed)
            rejected += p_value < ALPHA
        assert rejected / runs <= _limit(runs), (categories, rejected / runs)


def test_holm_turns_off_a_flag_that_many_tests_explain() -> None:
    from ml_ci.drift.engine import holm_adjusted
    from ml_ci.record.drift import ColumnDrift

    def column(name: str, p_value: float) -> ColumnDrift:
        return ColumnDrift(
            column=name,
            method="wasserstein",
            value=0.3,
            threshold=0.1,
            significant_threshold=0.25,
            drifted=p_value < ALPHA,
            p_value=p_value,
            level="significant" if p_value < ALPHA else "pass",
        )

    lucky = [column("lucky", 0.03)] + [column(f"c{i}", 0.5) for i in range(9)]
    adjusted, _ = holm_adjusted(lucky, [], ALPHA)
    assert adjusted[0].adjusted_p_value == pytest.approx(0.3)  # 10 x 0.03
    assert adjusted[0].level == "pass" and not adjusted[0].drifted
    real = [column("real", 1e-6)] + [column(f"c{i}", 0.5) for i in range(9)]
    adjusted, _ = holm_adjusted(real, [], ALPHA)
    assert adjusted[0].level == "significant" and adjusted[0].drifted
