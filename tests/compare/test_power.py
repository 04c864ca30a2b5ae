"""Minimum detectable effect before a candidate: power by simulation, Hanley-McNeil exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml_ci.compare import paired
from ml_ci.compare.gates import MetricStats, check_gate, decide
from ml_ci.compare.power import hanley_mcneil_variance, planned_mde, underpowered
from ml_ci.config.compare import Gate


def test_accuracy_mde_has_the_stated_power() -> None:
    """Paired tables with disagreement d and a true delta of threshold + MDE: the engine's
    gate (exact McNemar / Newcombe) passes about 80% of the time (3 MC SE)."""
    n, base_acc, margin, sims = 500, 0.85, 0.02, 2000
    mde = planned_mde("binary", "accuracy", n, alpha=0.05, baseline_value=base_acc)
    assert mde == pytest.approx((1.6448536 + 0.8416212) * math.sqrt(0.15 / n), rel=1e-6)
    delta = -margin + mde  # true distance from the threshold = MDE
    d = 1 - base_acc  # the planning assumption, made true in the simulation
    cand_only, base_only = (d + delta) / 2, (d - delta) / 2
    both = base_acc - base_only
    probs = [both, cand_only, base_only, 1 - both - cand_only - base_only]
    gate = Gate(metric="accuracy", margin=margin)
    rng = np.random.default_rng(7)
    passes = 0
    for table in rng.multinomial(n, probs, size=sims):
        counts = paired.PairedCounts(*map(int, table))
        est = paired.accuracy_delta(counts)
        stats = MetricStats("accuracy", None, base_acc, base_acc + delta, est, None, None, "m", n)
        passes += decide([check_gate(gate, stats, 0.05)], 0.05, "none")[0].verdict == "pass"
    rate = passes / sims
    assert abs(rate - 0.8) <= 3 * math.sqrt(0.8 * 0.2 / sims) + 0.01, rate


def test_measured_disagreement_replaces_the_assumption() -> None:
    planned = planned_mde("multiclass", "accuracy", 400, alpha=0.05, baseline_value=0.9)
    measured = planned_mde("multiclass", "accuracy", 400, alpha=0.05, disagreement=0.025)
    assert planned is not None and measured is not None
    assert measured == pytest.approx(planned * math.sqrt(0.025 / 0.1))
    assert planned_mde("regression", "r2", 400, alpha=0.05, baseline_value=0.8) is None
    assert planned_mde("binary", "accuracy", 400, alpha=0.05) is None  # nothing to plan on


def test_hanley_mcneil_variance_is_exact_under_the_exponential_model() -> None:
    """Negatives Exp(1), positives Exp(rate): AUC = 1 / (1 + rate); the variance of the
    empirical AUC over 4000 datasets matches Hanley-McNeil within MC error."""
    from sklearn.metrics import roc_auc_score

    m, k, auc, sims = 60, 90, 0.8, 4000
    rate = 1 / auc - 1
    rng = np.random.default_rng(3)
    neg = rng.exponential(1.0, (sims, k))
    pos = rng.exponential(1 / rate, (sims, m))
    both = np.concatenate([pos, neg], axis=1)
    ranks = np.argsort(np.argsort(both, axis=1), axis=1)[:, :m] + 1.0  # continuous: no ties
    aucs = (ranks.sum(axis=1) - m * (m + 1) / 2) / (m * k)  # Mann-Whitney
    y = np.r_[np.ones(m), np.zeros(k)]
    assert aucs[0] == pytest.approx(roc_auc_score(y, np.r_[pos[0], neg[0]]))
    expected = hanley_mcneil_variance(auc, m, k)
    # the sample variance of 4000 draws has relative SE ~ sqrt(2 / 4000) = 2.2%
    assert np.var(aucs, ddof=1) == pytest.approx(expected, rel=0.08)


def test_roc_auc_mde_and_underpowered_margins() -> None:
    mde = planned_mde("binary", "roc_auc", 72, alpha=0.05, baseline_value=0.9, positives=30)
    assert mde is not None and mde > 0.01
    assert underpowered("non_inferior", 0.01, mde)
    assert not underpowered("non_inferior", 0.5, mde)
    assert not underpowered("superior", 0.0, mde)
    big = planned_mde(
        "binary", "roc_auc", 100_000, alpha=0.05, baseline_value=0.9, positives=40_000
    )
    assert big is not None and big < mde / 10
    assert planned_mde("binary", "roc_auc", 72, alpha=0.05, baseline_value=0.9) is None


def test_the_record_says_when_a_margin_is_below_the_mde(tmp_path: object) -> None:
    from pathlib import Path

    from ml_ci.record import load_record
    from tests.compare.helpers import run_compare, write_binary

    folder = Path(str(tmp_path))
    base, cand = write_binary(folder, n=150, shift=0.1)
    config = "task: binary\ngates:\n  - {metric: roc_auc, margin: 0.001}\n  - {metric: roc_auc, margin: 0.5}\n"
    run_compare(folder, base, cand, config)
    section = load_record(folder / "record.json").compare
    assert section is not None
    tight, wide = section.gates
    assert tight.mde is not None and tight.mde > 0.001 and tight.underpowered
    assert not wide.underpowered
