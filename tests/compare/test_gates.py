"""Gate verdicts: bound/p-value agreement, Holm, tolerance, directions, guards, type-I error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from ml_ci.compare import paired
from ml_ci.compare.estimates import (
    Estimate,
    InvertedEstimate,
    NormalEstimate,
    PointEstimate,
    ReplicateEstimate,
)
from ml_ci.compare.gates import MetricStats, check_gate, decide, holm
from ml_ci.config.compare import Gate


def _stats(name: str, delta: Estimate, baseline: float = 0.8, n: int = 1000) -> MetricStats:
    cand = baseline + delta.value
    return MetricStats(name, None, baseline, cand, delta, delta, None, delta.method, n)


def _verdict(gate: Gate, stats: MetricStats, correction: str = "none", **kw: object) -> str:
    check = check_gate(gate, stats, 0.05, **kw)  # type: ignore[arg-type]
    return decide([check], 0.05, correction)[0].verdict


@pytest.mark.parametrize("seed", range(5))
def test_holm_equals_statsmodels(seed: int) -> None:
    p = list(np.random.default_rng(seed).uniform(0, 0.2, 7))
    expected = multipletests(p, alpha=0.05, method="holm")[1]
    assert holm(p) == pytest.approx(list(expected), rel=1e-12)


def _estimates(rng: np.random.Generator) -> list[Estimate]:
    centre = rng.normal(0, 0.02)
    counts = paired.PairedCounts(*rng.multinomial(300, [0.7, 0.12, 0.08, 0.1]))
    return [
        NormalEstimate(centre, abs(rng.normal(0.01, 0.003)), "normal"),
        ReplicateEstimate.of(centre, rng.normal(centre, 0.01, 2000), "bootstrap"),
        paired.accuracy_delta(counts),
    ]


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
@pytest.mark.parametrize("rule", ["non_inferior", "superior"])
def test_p_value_verdict_agrees_with_the_confidence_bound(metric: str, rule: str) -> None:
    """correction none: pass  <=>  the one-sided (1 - alpha) bound clears the threshold."""
    rng = np.random.default_rng([len(metric), len(rule)])
    checked = 0
    for _ in range(40):
        for est in _estimates(rng):
            margin = float(rng.choice([0.0, 0.005, 0.01, 0.02, 0.04]))
            gate = Gate(metric=metric, rule=rule, margin=margin)
            check = check_gate(gate, _stats(metric, est), 0.05)
            passed = decide([check], 0.05, "none")[0].verdict == "pass"
            higher = metric == "roc_auc"
            threshold = check.threshold
            assert threshold is not None
            clears = est.lower(0.05) > threshold if higher else est.upper(0.05) < threshold
            assert passed == clears, (est, margin)
            checked += passed
    assert 0 < checked < 240  # both outcomes were exercised


def test_a_tie_within_rounding_is_neither_pass_nor_fail() -> None:
    """0.85 vs 0.80 + 0.05: equal up to rounding, so no evidence either way."""
    exact = PointEstimate(0.85 - 0.80, "point")  # 0.04999999999999993
    gate = Gate(metric="accuracy", rule="superior", margin=0.05)
    check = check_gate(gate, _stats("accuracy", exact), 0.05)
    assert check.bound is not None and check.bound < 0.05  # the float really is below
    assert decide([check], 0.05, "none")[0].verdict == "inconclusive"
    absolute = Gate(metric="accuracy", rule="absolute", min=0.80 + 0.05)
    assert _verdict(absolute, _stats("accuracy", PointEstimate(0.85, "point"))) == "inconclusive"
    above = Gate(metric="accuracy", rule="absolute", min=0.84)
    assert _verdict(above, _stats("accuracy", PointEstimate(0.85, "point"))) == "pass"


def test_lower_is_better_direction() -> None:
    gate = Gate(metric="log_loss", rule="non_inferior", margin=0.01)
    assert _verdict(gate, _stats("log_loss", NormalEstimate(-0.02, 0.005, "n"))) == "pass"
    assert _verdict(gate, _stats("log_loss", NormalEstimate(0.05, 0.005, "n"))) == "fail"
    superior = Gate(metric="mae", rule="superior", margin=0.1)
    assert _verdict(superior, _stats("mae", NormalEstimate(-0.3, 0.05, "n"))) == "pass"
    assert _verdict(superior, _stats("mae", NormalEstimate(-0.05, 0.01, "n"))) == "fail"


def test_inconclusive_reports_the_minimum_detectable_effect() -> None:
    gate = Gate(metric="roc_auc", margin=0.01)
    est = NormalEstimate(-0.005, 0.01, "n")
    outcome = decide([check_gate(gate, _stats("roc_auc", est), 0.05)], 0.05, "holm")[0]
    assert outcome.verdict == "inconclusive"
    assert outcome.check.mde == pytest.approx((1.6448536 + 0.8416212) * 0.01, rel=1e-6)
    assert "straddles" in outcome.reason


def test_relative_margin_is_sign_aware_and_baseline_zero_is_explained() -> None:
    gate = Gate(metric="r2", margin=0.1, relative=True)
    check = check_gate(gate, _stats("r2", NormalEstimate(0.0, 0.01, "n"), baseline=-0.5), 0.05)
    assert check.margin == pytest.approx(0.05)  # 0.1 x |-0.5|
    zero = check_gate(gate, _stats("r2", NormalEstimate(0.0, 0.01, "n"), baseline=0.0), 0.05)
    assert zero.margin == 0.0
    assert "undefined" in decide([zero], 0.05, "none")[0].reason


def test_leakage_guard_fails_a_suspicious_improvement() -> None:
    gate = Gate(metric="roc_auc", margin=0.01)
    stats = _stats("roc_auc", NormalEstimate(0.3, 0.01, "n"))
    outcome = decide([check_gate(gate, stats, 0.05, max_improvement=0.1)], 0.05, "none")[0]
    assert outcome.verdict == "fail"
    assert "leakage" in outcome.reason
    assert _verdict(gate, stats, max_improvement=0.5) == "pass"


def test_a_small_slice_cannot_fail() -> None:
    gate = Gate(metric="roc_auc", margin=0.0)
    worse = _stats("roc_auc", NormalEstimate(-0.2, 0.01, "n"), n=20)
    check = check_gate(gate, worse, 0.05, below_min=True)
    outcome = decide([check], 0.05, "holm")[0]
    assert outcome.verdict == "inconclusive"
    assert "below min_size" in outcome.reason


def test_holm_makes_a_borderline_gate_inconclusive() -> None:
    gate = Gate(metric="roc_auc", margin=0.0)
    borderline = _stats("roc_auc", NormalEstimate(0.02, 0.0105, "n"))  # one-sided p ~ 0.028
    strong = _stats("roc_auc", NormalEstimate(0.001, 0.01, "n"))
    checks = [check_gate(gate, borderline, 0.05), check_gate(gate, strong, 0.05)]
    assert decide(checks, 0.05, "none")[0].verdict == "pass"
    holm_outcome = decide(checks, 0.05, "holm")[0]
    assert holm_outcome.verdict == "inconclusive"
    assert holm_outcome.adjusted_p_value == pytest.approx(2 * checks[0].p_value)  # type: ignore[operator]


def test_non_inferiority_type_one_error_at_the_margin() -> None:
    """True accuracy difference exactly -margin: false passes <= alpha + 3 MC SE."""
    rng = np.random.default_rng(2024)
    margin, n, sims = 0.05, 400, 400
    # P(both right), P(only candidate right), P(only baseline right), P(neither)
    probs = [0.70, 0.05, 0.10, 0.15]  # p_cand - p_base = 0.75 - 0.80 = -0.05
    gate = Gate(metric="accuracy", margin=margin)
    false_pass = 0
    for table in rng.multinomial(n, probs, size=sims):
        counts = paired.PairedCounts(*map(int, table))
        stats = MetricStats(
            "accuracy", None, 0.8, 0.75, paired.accuracy_delta(counts), None, None, "m", n
        )
        false_pass += decide([check_gate(gate, stats, 0.05)], 0.05, "none")[0].verdict == "pass"
    rate = false_pass / sims
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / sims)


def test_inverted_estimate_p_value_matches_its_bound() -> None:
    counts = paired.PairedCounts(200, 30, 18, 52)
    est = paired.accuracy_delta(counts)
    assert isinstance(est, InvertedEstimate)
    for a in (0.01, 0.05, 0.2):
        bound = est.lower(a)
        assert est.p_above(bound) == pytest.approx(a, rel=1e-6)
