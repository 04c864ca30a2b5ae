"""Burn rates and multiwindow alerts, against the SRE workbook's own arithmetic."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ml_ci.monitor.burn import (
    WORKBOOK_RULES,
    WORKBOOK_WINDOW,
    alerts_over_time,
    evaluate_budget,
    window_sums,
)

BUCKET = timedelta(minutes=5)
PER_BUCKET = 3000  # 10 requests a second
DAY = 24 * 12  # buckets in a day


def test_thresholds_are_the_workbooks() -> None:
    # threshold = share * window / long: 0.02 * 720 h / 1 h = 14.4; 0.05 * 720 / 6 = 6;
    # 0.10 * 720 / 24 = 3; 0.10 * 720 / 72 = 1
    got = [round(rule.threshold(WORKBOOK_WINDOW), 9) for rule in WORKBOOK_RULES]
    assert got == [14.4, 6.0, 3.0, 1.0]


def test_thresholds_scale_with_the_window() -> None:
    # a 7-day window: 2 % of 168 h in 1 h is a burn of 0.02 * 168 = 3.36
    page = WORKBOOK_RULES[0]
    assert page.threshold(timedelta(days=7)) == pytest.approx(3.36)


def test_window_sums_match_a_loop() -> None:
    counts = np.arange(1, 11)
    got = window_sums(counts, 3)
    expected = [sum(counts[max(0, i - 2) : i + 1]) for i in range(10)]
    assert got.tolist() == expected


def _month(rate: float, *, seed: int = 0, days: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    total = rng.poisson(PER_BUCKET, size=days * DAY)
    bad = rng.binomial(total, rate)
    return bad, total


def test_sharp_latency_regression_in_the_last_90_minutes_pages() -> None:
    # latency objective: at most 5 % of requests slower than the threshold (budget 0.05).
    # For 90 minutes 80 % are slow: burn 0.8 / 0.05 = 16 over the last 1 h and 5 min,
    # above the 14.4 page threshold; over 6 h the burn is at most (1.5 h * 16 + 4.5 h * 0.4)
    # / 6 h = 4.3 < 6, so only the fast rule fires.
    bad, total = _month(0.02, seed=1)
    last = 18  # 90 minutes of 5-minute buckets
    bad[-last:] = np.round(total[-last:] * 0.8).astype(np.int64)
    status = evaluate_budget(bad, total, budget=0.05, bucket=BUCKET)
    assert status.alert == "page"
    fast, slow = status.rules[:2]
    assert fast.firing and fast.long_burn == pytest.approx(16, rel=0.01)
    assert not slow.firing and slow.long_burn is not None and slow.long_burn < 6


def test_slow_burn_for_three_days_tickets_not_pages() -> None:
    # error objective 0.001; three days at burn 2 (error rate 0.002): the 3 d / 6 h rule
    # (threshold 1) fires, the 1 d / 2 h rule (threshold 3) and both page rules do not.
    bad, total = _month(0.0004, seed=2)
    three_days = 3 * DAY
    rng = np.random.default_rng(3)
    bad[-three_days:] = rng.binomial(total[-three_days:], 0.002)
    status = evaluate_budget(bad, total, budget=0.001, bucket=BUCKET)
    assert status.alert == "ticket"
    assert [rule.firing for rule in status.rules] == [False, False, False, True]
    assert status.rules[3].long_burn == pytest.approx(2, rel=0.05)


def test_clean_month_every_five_minutes_raises_nothing() -> None:
    # error rate 0.0005 against an objective of 0.001: burn 0.5 everywhere. The tightest
    # rule (3 d / 6 h at burn 1) would need twice the expected errors in 216,000 requests:
    # ~10 standard deviations away, so not one of the 8,640 evaluations may alert.
    bad, total = _month(0.0005, seed=4)
    levels = alerts_over_time(bad, total, budget=0.001, bucket=BUCKET, min_requests=100)
    assert levels.max() == 0
    # the vectorised series agrees with the one-moment evaluation at the end
    assert evaluate_budget(bad, total, budget=0.001, bucket=BUCKET).alert == "none"


def test_series_and_single_evaluation_agree() -> None:
    bad, total = _month(0.0004, seed=5, days=5)
    bad[-40:] = total[-40:] // 50  # a burst: burn 20 at budget 0.001
    levels = alerts_over_time(bad, total, budget=0.001, bucket=BUCKET)
    for end in (len(total) - 41, len(total) - 30, len(total) - 1):
        status = evaluate_budget(bad[: end + 1], total[: end + 1], budget=0.001, bucket=BUCKET)
        assert levels[end] == {"none": 0, "ticket": 1, "page": 2}[status.alert]


def test_a_window_below_min_requests_never_fires() -> None:
    total = np.full(DAY * 4, 2, dtype=np.int64)  # 2 requests per 5 minutes
    bad = total.copy()  # every one bad: burn 1000; the longest short window (6 h) has 144
    assert evaluate_budget(bad, total, budget=0.001, bucket=BUCKET, min_requests=200).alert == (
        "none"
    )
    assert evaluate_budget(bad, total, budget=0.001, bucket=BUCKET, min_requests=1).alert == (
        "page"
    )


def test_budget_spent_is_bad_over_allowed_bad() -> None:
    total = np.full(DAY * 30, 1000, dtype=np.int64)
    bad = np.zeros_like(total)
    bad[:300] = 4  # 1,200 bad of 8,640,000 requests; allowed 0.001 * 8,640,000 = 8,640
    status = evaluate_budget(bad, total, budget=0.001, bucket=BUCKET)
    assert status.spent == pytest.approx(1200 / 8640)
    assert status.alert == "none"
