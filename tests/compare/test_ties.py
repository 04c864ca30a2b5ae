"""A tie with the threshold is never evidence: superiority at delta exactly 0 must not pass."""

from __future__ import annotations

import numpy as np
import pytest

from ml_ci.compare.engine import compare_paired
from ml_ci.compare.estimates import NormalEstimate, ReplicateEstimate
from ml_ci.compare.gates import MetricStats, check_gate, decide
from ml_ci.compare.inputs import Paired, Side
from ml_ci.config import validate_config
from ml_ci.config.compare import Gate
from tests.compare.helpers import binary_scores

METRICS = ["roc_auc", "f1", "log_loss", "brier", "average_precision"]


def _table(y: np.ndarray, sb: np.ndarray, sc: np.ndarray) -> Paired:
    y = y.astype(np.int64)
    return Paired(
        "binary",
        y,
        Side((sb >= 0.5).astype(np.int64), sb, None),
        Side((sc >= 0.5).astype(np.int64), sc, None),
        ["0", "1"],
    )


def _superior(metric: str) -> object:
    return validate_config(
        {
            "task": "binary",
            "gates": [{"metric": metric, "rule": "superior", "margin": 0.0}],
            "compare": {"correction": "none", "bootstrap": {"resamples": 1000}},
        }
    )


@pytest.mark.parametrize("metric", METRICS)
def test_identical_candidate_is_not_superior(metric: str) -> None:
    y, sb, _ = binary_scores(1000, seed=5)
    section = compare_paired(_table(y, sb, sb.copy()), _superior(metric), seed=0)  # type: ignore[arg-type]
    gate = section.gates[0]
    assert gate.verdict != "pass", gate
    assert gate.p_value is not None and gate.p_value >= 0.05, gate


@pytest.mark.parametrize("metric", METRICS)
def test_one_row_of_a_thousand_is_not_superiority(metric: str) -> None:
    """The candidate differs from the baseline on one row (a positive scored higher and
    now classified right): the paired evidence is a single row."""
    y, sb, _ = binary_scores(1000, seed=6)
    sc = sb.copy()
    row = int(np.flatnonzero((y == 1) & (sb < 0.5))[0])
    sc[row] = 0.99
    section = compare_paired(_table(y, sb, sc), _superior(metric), seed=0)  # type: ignore[arg-type]
    gate = section.gates[0]
    assert gate.verdict != "pass", gate


def test_bootstrap_replicates_at_the_threshold_are_not_above_it() -> None:
    est = ReplicateEstimate.of(0.0, np.zeros(999), "bootstrap")
    assert est.p_above(0.0) == 1.0
    gate = Gate(metric="f1", rule="superior", margin=0.0)
    stats = MetricStats("f1", None, 0.8, 0.8, est, est, 1.0, "b", 1000)
    outcome = decide([check_gate(gate, stats, 0.05)], 0.05, "none")[0]
    assert outcome.verdict == "inconclusive"


def test_zero_standard_error_is_no_evidence() -> None:
    """DeLong with SE 0 (e.g. identical models): p = 1 both ways, no bound."""
    est = NormalEstimate(0.0, 0.0, "DeLong")
    assert est.p_above(0.0) == 1.0 and est.p_below(0.0) == 1.0
    assert est.p_above(-0.5) == 1.0  # even far from the threshold: no evidence
    assert est.lower(0.05) == -np.inf and est.upper(0.05) == np.inf
    gate = Gate(metric="roc_auc", rule="superior", margin=0.0)
    stats = MetricStats("roc_auc", None, 0.8, 0.8, est, est, 1.0, "DeLong", 1000)
    assert decide([check_gate(gate, stats, 0.05)], 0.05, "none")[0].verdict == "inconclusive"


def test_equal_up_to_rounding_is_a_tie_not_a_pass() -> None:
    """0.85 - 0.80 is 0.04999999999999993 in floats: a tie with margin 0.05, neither side."""
    from ml_ci.compare.estimates import PointEstimate

    gate = Gate(metric="accuracy", rule="superior", margin=0.05)
    stats = MetricStats(
        "accuracy", None, 0.8, 0.85, PointEstimate(0.85 - 0.80, "p"), None, None, "p", 10
    )
    outcome = decide([check_gate(gate, stats, 0.05)], 0.05, "none")[0]
    assert outcome.verdict == "inconclusive"
    clear = MetricStats("accuracy", None, 0.8, 0.86, PointEstimate(0.06, "p"), None, None, "p", 10)
    assert decide([check_gate(gate, clear, 0.05)], 0.05, "none")[0].verdict == "pass"
