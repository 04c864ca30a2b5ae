"""Quality objectives with late outcomes: one-sided bound, coverage, CBPE estimate."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from ml_ci.monitor.quality import (
    QualityCounts,
    evaluate_quality,
    expected_correct,
    upper_bound,
)


def test_upper_bound_equals_statsmodels_clopper_pearson() -> None:
    # a one-sided 95 % bound is the upper end of the two-sided 90 % Clopper-Pearson interval
    for correct, labelled in ((850, 1000), (3, 10), (0, 25), (99, 100)):
        _, high = proportion_confint(correct, labelled, alpha=0.10, method="beta")
        assert upper_bound(correct, labelled, 0.05) == pytest.approx(high, abs=1e-12)


def test_accuracy_below_objective_with_half_the_outcomes_missing_alerts() -> None:
    # 10,000 served, 5,000 outcomes arrived, 4,250 right: accuracy 0.85 against 0.88;
    # the 95 % upper bound (~0.858) is below 0.88, so the objective is breached (ticket)
    counts = QualityCounts(total=10_000, labelled=5_000, correct=4_250)
    status = evaluate_quality(counts, minimum=0.88, alpha=0.05, min_coverage=0.3)
    assert status.coverage == 0.5
    assert status.value == pytest.approx(0.85)
    assert status.upper is not None and status.upper < 0.88
    assert (status.state, status.alert) == ("breached", "ticket")
    paged = evaluate_quality(counts, minimum=0.88, alpha=0.05, min_coverage=0.3, page_below=0.87)
    assert paged.alert == "page"


def test_too_few_outcomes_give_no_verdict() -> None:
    counts = QualityCounts(total=10_000, labelled=500, correct=300)  # 60 % but 5 % coverage
    status = evaluate_quality(counts, minimum=0.88, alpha=0.05, min_coverage=0.2)
    assert (status.state, status.alert) == ("not_enough_outcomes", "none")
    assert status.coverage == 0.05


def test_a_model_meeting_its_objective_rarely_tickets() -> None:
    # accuracy exactly at the objective: a one-sided test at 5 % tickets about 5 % of windows
    # (at most alpha: Clopper-Pearson is conservative)
    rng = np.random.default_rng(7)
    runs = 4000
    correct = rng.binomial(2000, 0.88, size=runs)
    tickets = sum(
        evaluate_quality(
            QualityCounts(total=4000, labelled=2000, correct=int(c)),
            minimum=0.88,
            alpha=0.05,
            min_coverage=0.2,
        ).alert
        != "none"
        for c in correct
    )
    se = (0.05 * 0.95 / runs) ** 0.5
    assert tickets / runs <= 0.05 + 3 * se


def test_cbpe_estimate_beside_the_measured_value() -> None:
    scores = np.array([0.9, 0.2, 0.6, 0.7])
    predictions = np.array([1, 0, 1, 0])
    # P(own prediction right): 0.9, 0.8, 0.6, 0.3
    assert expected_correct(scores, predictions) == pytest.approx(2.6)
    counts = QualityCounts(
        total=10, labelled=6, correct=5, expected_correct_unlabelled=2.6, unlabelled_scored=4
    )
    status = evaluate_quality(counts, minimum=0.5, alpha=0.05, min_coverage=0.5)
    assert status.estimate == pytest.approx((5 + 2.6) / (6 + 4))
    assert (status.estimate_rows, status.estimated_rows) == (10, 4)
    assert status.value == pytest.approx(5 / 6)
    # rows without a score are not in the estimate: 2 of the 4 unlabelled rows scored
    part = QualityCounts(
        total=10, labelled=6, correct=5, expected_correct_unlabelled=1.7, unlabelled_scored=2
    )
    status = evaluate_quality(part, minimum=0.5, alpha=0.05, min_coverage=0.5)
    assert status.estimate == pytest.approx((5 + 1.7) / 8)
    # nothing to estimate: no estimate (the measured value is all there is)
    none = QualityCounts(total=10, labelled=6, correct=5, expected_correct_unlabelled=0.0)
    assert evaluate_quality(none, minimum=0.5, alpha=0.05, min_coverage=0.5).estimate is None
