"""Anytime-valid intervals of canary gates over looks (pure math on cumulative statistics).

Each gate gets ``alpha / len(gates)`` (Bonferroni, so rollback and promote errors are controlled
for all gates together) and each version half of that (:func:`difference_cs`). Intervals are
running intersections over the looks, so they only narrow. Everything is vectorised over leading
axes, so a simulation of many canaries runs the same code as ``ml-ci canary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ml_ci.compare.sequential import (
    Array,
    count_thresholds,
    difference_cs,
    fixed_count_thresholds,
    fixed_mean_ci,
    mean_cs,
    quantile_bounds,
    quantile_point,
    ratio_cs,
    running_intersection,
)
from ml_ci.config.canary import CANARY_METRICS, CanaryGate
from ml_ci.logs.buckets import LATENCY_EDGES_MS, Stats

QUANTILES = {"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}

# gate status per look
WORSE, NON_INFERIOR, INCONCLUSIVE = "worse", "non_inferior", "inconclusive"


@dataclass
class GateSeries:
    """One gate over the looks: the canary's and production's values, and the interval of the
    gated quantity (canary - production, or canary / production - 1 when relative; the canary's
    own value for rule absolute), with its status per look."""

    gate: CanaryGate
    canary: Array
    production: Array
    estimate: Array
    lower: Array
    upper: Array
    status: Array  # of str


def _counts(stats: Stats, metric: str) -> tuple[Array, Array]:
    """(sum, n) of the per-request quantity behind a proportion / bounded-mean metric."""
    return {
        "error_rate": (stats.errors, stats.requests),
        "accuracy": (stats.correct, stats.labelled),
        "precision": (stats.true_pos, stats.pred_pos),
        "recall": (stats.true_pos, stats.actual_pos),
        "brier": (stats.brier_sum, stats.brier_rows),  # labelled rows with a score
    }[metric]


Method = Literal["sequential", "fixed"]


def value_cs(
    stats: Stats, metric: str, alpha: float, method: Method = "sequential"
) -> tuple[Array, Array, Array]:
    """``(point, lower, upper)`` of one version's metric at each look: the anytime-valid CS
    (running intersection), or with ``method="fixed"`` the fixed-sample interval of each look
    on its own (the peers' way; only for measuring its error rate)."""
    sequential = method == "sequential"
    if metric in QUANTILES:
        q = QUANTILES[metric]
        n = stats.requests
        below = np.concatenate(
            [np.zeros((*stats.latency.shape[:-1], 1)), np.cumsum(stats.latency, axis=-1)], axis=-1
        )
        # each side of the quantile CS holds at alpha/2 (two Bernoulli sequences, union bound)
        c_low, c_high = (
            count_thresholds(n, q, alpha / 2) if sequential else fixed_count_thresholds(n, q, alpha)
        )
        lower, upper = quantile_bounds(below, c_low, c_high, LATENCY_EDGES_MS)
        point = quantile_point(below, n, q, LATENCY_EDGES_MS)
    else:
        s, n = _counts(stats, metric)
        lower, upper = (mean_cs if sequential else fixed_mean_ci)(s, n, alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            point = np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)
    if sequential:
        lower, upper = running_intersection(lower, upper)
    return point, lower, upper


def gate_series(
    gate: CanaryGate, canary: Stats, production: Stats, alpha: float, method: Method = "sequential"
) -> GateSeries:
    """Intervals and status of ``gate`` at every look (``alpha``: this gate's share)."""
    higher_is_worse = CANARY_METRICS[gate.metric][1]
    if gate.rule == "absolute":
        point_c, lc, uc = value_cs(canary, gate.metric, alpha, method)
        point_p = value_cs(production, gate.metric, alpha, method)[0]
        low_ok = np.full(lc.shape, True) if gate.min is None else lc >= gate.min
        high_ok = np.full(uc.shape, True) if gate.max is None else uc <= gate.max
        worse = np.full(lc.shape, False)
        if gate.min is not None:
            worse |= uc < gate.min
        if gate.max is not None:
            worse |= lc > gate.max
        status = np.where(worse, WORSE, np.where(low_ok & high_ok, NON_INFERIOR, INCONCLUSIVE))
        return GateSeries(gate, point_c, point_p, point_c, lc, uc, status)
    point_c, lc, uc = value_cs(canary, gate.metric, alpha / 2, method)
    point_p, lp, up = value_cs(production, gate.metric, alpha / 2, method)
    with np.errstate(invalid="ignore", divide="ignore"):
        if gate.relative:
            lower, upper = ratio_cs((lc, uc), (lp, up))
            estimate = point_c / point_p - 1
        else:
            lower, upper = difference_cs((lc, uc), (lp, up))
            estimate = point_c - point_p
    # harm: the difference in the direction where the canary is worse
    harm_low, harm_high = (lower, upper) if higher_is_worse else (-upper, -lower)
    rollback_at = gate.rollback_margin if gate.rollback_margin is not None else 0.0
    worse = harm_low > rollback_at
    fine = harm_high < gate.margin
    status = np.where(worse, WORSE, np.where(fine, NON_INFERIOR, INCONCLUSIVE))
    return GateSeries(gate, point_c, point_p, estimate, lower, upper, status)


def sample_ratio_cs(canary: Stats, production: Stats, alpha: float) -> tuple[Array, Array]:
    """Anytime-valid CS of the canary's share of requests (for the sample-ratio check)."""
    total = canary.requests + production.requests
    return running_intersection(*mean_cs(canary.requests, total, alpha))
