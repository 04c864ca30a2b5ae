"""Error budgets and the SRE workbook's multiwindow, multi-burn-rate alerts (pure math).

A request-based objective allows a fraction ``budget`` of the requests in the SLO ``window``
to be bad (an error, or slower than a latency threshold). Over any stretch of time ``w``::

    burn(w)   = (bad_w / total_w) / budget         # 1.0 spends the budget exactly in `window`
    spent     = bad_window / (budget * total_window) # share of the window's budget used

An alert rule (long window ``L``, short window ``S``, budget share ``s``) fires when BOTH
``burn(L)`` and ``burn(S)`` exceed ``threshold = s * window / L``: the burn that spends ``s`` of
the budget in ``L``. The workbook's rules for a 30-day window (Google SRE workbook, "Alerting
on SLOs", table 5-8), whose thresholds follow from that formula:

=======  ======  =======  ======  =========
alert    long    short    share   threshold
=======  ======  =======  ======  =========
page     1 h     5 min    2 %     14.4
page     6 h     30 min   5 %     6
ticket   1 d     2 h      10 %    3
ticket   3 d     6 h      10 %    1
=======  ======  =======  ======  =========

The short window makes an alert stop soon after the burn stops. A window with fewer than
``min_requests`` requests never fires (a handful of requests says nothing about a rate).

Counts come as one value per fixed-width time bucket (oldest first), so every window is a
difference of cumulative sums and a whole month can be evaluated at every bucket at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

Alert = Literal["page", "ticket", "none"]
SEVERITY: dict[Alert, int] = {"none": 0, "ticket": 1, "page": 2}
WORKBOOK_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class AlertRule:
    """One multiwindow burn-rate rule."""

    alert: Literal["page", "ticket"]
    long: timedelta
    short: timedelta
    budget_share: float  # share of the window's budget this rule lets burn within `long`

    def threshold(self, window: timedelta) -> float:
        """Burn rate that spends ``budget_share`` of the budget of ``window`` within ``long``."""
        return self.budget_share * (window / self.long)


WORKBOOK_RULES: tuple[AlertRule, ...] = (
    AlertRule("page", timedelta(hours=1), timedelta(minutes=5), 0.02),
    AlertRule("page", timedelta(hours=6), timedelta(minutes=30), 0.05),
    AlertRule("ticket", timedelta(days=1), timedelta(hours=2), 0.10),
    AlertRule("ticket", timedelta(days=3), timedelta(hours=6), 0.10),
)


@dataclass(frozen=True)
class RuleStatus:
    """One rule evaluated at one moment."""

    rule: AlertRule
    threshold: float
    long_burn: float | None  # None: no requests in the window
    short_burn: float | None
    long_requests: int
    short_requests: int
    firing: bool


@dataclass(frozen=True)
class BudgetStatus:
    """A request-based objective over its window, evaluated at the last bucket."""

    bad: int
    total: int
    budget: float
    spent: float | None  # share of the window's error budget used (None: no requests)
    rules: tuple[RuleStatus, ...]
    alert: Alert

    @property
    def bad_ratio(self) -> float | None:
        return self.bad / self.total if self.total else None


def worst(alerts: list[Alert] | tuple[Alert, ...]) -> Alert:
    """The most severe of ``alerts`` (``none`` when empty)."""
    return max(alerts, key=SEVERITY.__getitem__, default="none")


def buckets_in(span: timedelta, bucket: timedelta) -> int:
    """How many buckets make ``span``; the span must be a whole number of buckets."""
    count = span / bucket
    if count < 1 or abs(count - round(count)) > 1e-9:
        raise ValueError(f"a {span} window is not a whole number of {bucket} buckets")
    return round(count)


def window_sums(counts: npt.ArrayLike, width: int) -> npt.NDArray[np.int64]:
    """Sum of the last ``width`` buckets ending at each bucket (fewer at the start)."""
    values = np.asarray(counts, dtype=np.int64)
    total = np.concatenate([[0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    sums: npt.NDArray[np.int64] = total[ends] - total[np.maximum(ends - width, 0)]
    return sums


def burn_rates(
    bad: npt.NDArray[np.int64], total: npt.NDArray[np.int64], budget: float
) -> npt.NDArray[np.float64]:
    """``(bad / total) / budget`` elementwise; NaN where there are no requests."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, bad / np.maximum(total, 1) / budget, np.nan)


def alerts_over_time(
    bad: npt.ArrayLike,
    total: npt.ArrayLike,
    *,
    budget: float,
    bucket: timedelta,
    window: timedelta = WORKBOOK_WINDOW,
    min_requests: int = 1,
    rules: tuple[AlertRule, ...] = WORKBOOK_RULES,
) -> npt.NDArray[np.int8]:
    """The alert (0 none, 1 ticket, 2 page) an evaluation at the end of each bucket raises."""
    if not 0 < budget < 1:
        raise ValueError(f"budget must be in (0, 1), got {budget}")
    bad_counts = np.asarray(bad, dtype=np.int64)
    totals = np.asarray(total, dtype=np.int64)
    level = np.zeros(len(totals), dtype=np.int8)
    for rule in rules:
        firing = _firing(bad_counts, totals, rule, budget, bucket, window, min_requests)
        level = np.maximum(level, np.where(firing, SEVERITY[rule.alert], 0).astype(np.int8))
    return level


def evaluate_budget(
    bad: npt.ArrayLike,
    total: npt.ArrayLike,
    *,
    budget: float,
    bucket: timedelta,
    window: timedelta = WORKBOOK_WINDOW,
    min_requests: int = 1,
    rules: tuple[AlertRule, ...] = WORKBOOK_RULES,
) -> BudgetStatus:
    """Budget, burn rates and alert at the end of the last bucket of the series."""
    bad_counts = np.asarray(bad, dtype=np.int64)
    totals = np.asarray(total, dtype=np.int64)
    if len(totals) == 0:
        raise ValueError("no buckets to evaluate")
    statuses = []
    for rule in rules:
        sums = {}
        for name, span in (("long", rule.long), ("short", rule.short)):
            width = buckets_in(span, bucket)
            sums[name] = (int(bad_counts[-width:].sum()), int(totals[-width:].sum()))
        (long_bad, long_total), (short_bad, short_total) = sums["long"], sums["short"]
        long_burn = long_bad / long_total / budget if long_total else None
        short_burn = short_bad / short_total / budget if short_total else None
        limit = rule.threshold(window)
        firing = (
            long_burn is not None
            and short_burn is not None
            and long_total >= min_requests
            and short_total >= min_requests
            and long_burn > limit
            and short_burn > limit
        )
        statuses.append(
            RuleStatus(rule, limit, long_burn, short_burn, long_total, short_total, firing)
        )
    width = buckets_in(window, bucket)
    window_bad, window_total = int(bad_counts[-width:].sum()), int(totals[-width:].sum())
    spent = window_bad / (budget * window_total) if window_total else None
    alert = worst([s.rule.alert for s in statuses if s.firing])
    return BudgetStatus(window_bad, window_total, budget, spent, tuple(statuses), alert)


def _firing(
    bad: npt.NDArray[np.int64],
    total: npt.NDArray[np.int64],
    rule: AlertRule,
    budget: float,
    bucket: timedelta,
    window: timedelta,
    min_requests: int,
) -> npt.NDArray[np.bool_]:
    limit = rule.threshold(window)
    fires = np.ones(len(total), dtype=bool)
    for span in (rule.long, rule.short):
        width = buckets_in(span, bucket)
        span_bad, span_total = window_sums(bad, width), window_sums(total, width)
        burn = burn_rates(span_bad, span_total, budget)
        # NaN (no requests) compares False: an empty window never fires
        fires &= (span_total >= min_requests) & (burn > limit)
    return fires
