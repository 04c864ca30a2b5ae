"""A tie with the threshold is never evidence: superiority at delta exactly 0 must not pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ml_ci.compare.engine import compare_paired
from ml_ci.compare.estimates import NormalEstimate, ReplicateEstimate
from ml_ci.compare.gates import MetricStats, check_gate, decide
from ml_ci.compare.inputs import Paired, Side
from ml_ci.config import validate_config
from ml_ci.config.compare import Gate
from tests.compare.helpers import binary_scores, run_compare, write_binary

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


def test_unchanged_predictions_pass_the_default_gates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A code-only pull request: identical predictions on 72 rows, default gates -> exit 0."""
    base, _ = write_binary(tmp_path, n=72)
    cand = tmp_path / "candidate.csv"
    shutil.copy(base, cand)
    assert run_compare(tmp_path, base, cand, "task: binary\n", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["unchanged"] is True
    assert payload["verdict"] == "pass"
    assert all(g["verdict"] == "pass" and "unchanged" in g["reason"] for g in payload["gates"])


def test_unchanged_superiority_does_not_pass_but_non_inferiority_and_absolute_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = write_binary(tmp_path, n=300)
    cand = tmp_path / "candidate.csv"
    shutil.copy(base, cand)
    config = """
task: binary
compare: {inconclusive: warn}
gates:
  - {metric: accuracy, rule: superior, margin: 0.0}
  - {metric: log_loss, rule: non_inferior, margin: 0.0}
  - {metric: roc_auc, rule: absolute, min: 0.5}
"""
    assert run_compare(tmp_path, base, cand, config, "--json") == 0
    gates = {g["metric"]: g for g in json.loads(capsys.readouterr().out)["gates"]}
    assert gates["accuracy"]["verdict"] == "inconclusive"
    assert "unchanged" in gates["accuracy"]["reason"]
    assert gates["log_loss"]["verdict"] == "pass"
    assert gates["roc_auc"]["verdict"] == "pass"


def test_one_changed_score_is_not_unchanged(tmp_path: Path) -> None:
    import pandas as pd

    base, _ = write_binary(tmp_path, n=200)
    frame = pd.read_csv(base)
    frame.loc[0, "y_score"] = frame.loc[0, "y_score"] / 2  # y_pred may stay, the score moved
    cand = tmp_path / "candidate.csv"
    frame.to_csv(cand, index=False)
    run_compare(tmp_path, base, cand, "task: binary\n")
    from ml_ci.record import load_record

    section = load_record(tmp_path / "record.json").compare
    assert section is not None and section.unchanged is False
