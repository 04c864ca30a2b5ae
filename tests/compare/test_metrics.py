"""Every point metric equals scikit-learn's (the reference), ties and edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ml_ci.compare import bootstrap, metrics
from ml_ci.compare.engine import binary_metrics, multiclass_metrics, regression_metrics
from ml_ci.compare.inputs import Paired, Side
from tests.compare.helpers import binary_scores


def _binary_table(n: int, seed: int, decimals: int | None = 3) -> Paired:
    y, sb, sc = binary_scores(n, seed, decimals=decimals)
    return Paired(
        "binary",
        y,
        Side((sb >= 0.5).astype(np.int64), sb, None),
        Side((sc >= 0.5).astype(np.int64), sc, None),
        ["0", "1"],
    )


@pytest.mark.parametrize(("n", "seed", "decimals"), [(500, 1, 2), (2000, 2, None), (37, 3, 1)])
def test_binary_metrics_equal_sklearn(n: int, seed: int, decimals: int | None) -> None:
    table = _binary_table(n, seed, decimals)
    got = {m.name: m for m in binary_metrics(table, seed=0, resamples=200, stream=0)}
    y = table.y
    for side, attr in ((table.base, "baseline"), (table.cand, "candidate")):
        pred, score = side.pred, side.score
        expected = {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0),
            "f1": skm.f1_score(y, pred, zero_division=0),
            "roc_auc": skm.roc_auc_score(y, score),
            "average_precision": skm.average_precision_score(y, score),
            "log_loss": skm.log_loss(y, score),
            "brier": skm.brier_score_loss(y, score),
        }
        for name, value in expected.items():
            assert getattr(got[name], attr) == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_log_loss_clips_certain_wrong_scores_like_sklearn() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([1.0, 0.0, 1.0, 0.0, 0.3])
    assert metrics.binary_log_losses(y, p).mean() == pytest.approx(skm.log_loss(y, p), rel=1e-12)


def test_precision_without_positive_predictions_is_zero_like_sklearn() -> None:
    y = np.array([0, 1, 1, 0])
    pred = np.zeros(4, dtype=np.int64)
    cells = np.bincount(y * 4 + pred * 2 + pred, minlength=8).astype(float)
    for name, fn in (("precision", skm.precision_score), ("f1", skm.f1_score)):
        assert metrics.binary_count_metric(name, cells, 1) == fn(y, pred, zero_division=0)


def test_multiclass_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(4)
    n, k = 800, 4
    y = rng.integers(0, k, n)
    out = []
    for noise in (1.0, 1.3):
        logits = rng.normal(0, noise, (n, k))
        logits[np.arange(n), y] += 1.5
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        out.append((proba.argmax(axis=1), proba))
    # class 3 is never predicted by the baseline: macro f1 still averages over it (in y_true)
    base_pred = np.where(out[0][0] == 3, 0, out[0][0])
    table = Paired(
        "multiclass",
        y,
        Side(base_pred, out[0][1], None),
        Side(out[1][0], out[1][1], None),
        [str(i) for i in range(k)],
    )
    got = {m.name: m for m in multiclass_metrics(table, seed=0, resamples=200, stream=0)}
    for attr, (pred, proba) in (("baseline", (base_pred, out[0][1])), ("candidate", out[1])):
        assert getattr(got["accuracy"], attr) == pytest.approx(skm.accuracy_score(y, pred))
        assert getattr(got["f1_macro"], attr) == pytest.approx(
            skm.f1_score(y, pred, average="macro"), rel=1e-12
        )
        assert getattr(got["f1_weighted"], attr) == pytest.approx(
            skm.f1_score(y, pred, average="weighted"), rel=1e-12
        )
        assert getattr(got["log_loss"], attr) == pytest.approx(skm.log_loss(y, proba), rel=1e-12)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(10, 3, 700)
    pb = y + rng.normal(0, 1, 700)
    pc = y + rng.normal(0.2, 0.8, 700)
    table = Paired("regression", y, Side(pb, None, None), Side(pc, None, None), [])
    got = {m.name: m for m in regression_metrics(table, seed=0, resamples=200, stream=0)}
    for attr, pred in (("baseline", pb), ("candidate", pc)):
        assert getattr(got["mae"], attr) == pytest.approx(
            skm.mean_absolute_error(y, pred), rel=1e-12
        )
        assert getattr(got["rmse"], attr) == pytest.approx(
            skm.root_mean_squared_error(y, pred), rel=1e-12
        )
        assert getattr(got["r2"], attr) == pytest.approx(skm.r2_score(y, pred), rel=1e-10)


def test_r2_of_a_constant_target_follows_sklearn_force_finite() -> None:
    y = np.full(5, 2.0)
    assert float(metrics.r2_from_sums(0.0, 0.0)) == skm.r2_score(y, y)
    assert float(metrics.r2_from_sums(1.0, 0.0)) == skm.r2_score(y, y + 1)


def test_weighted_ap_with_unit_weights_is_sklearn_ap() -> None:
    y, sb, _ = binary_scores(300, 6, decimals=2)
    order = np.argsort(sb)[::-1]
    ranked = bootstrap.Ranked(order, y[order].astype(float), metrics.tie_group_ends(sb[order]))
    got = bootstrap.ap_weighted(np.ones((1, 300)), ranked)[0]
    assert got == pytest.approx(skm.average_precision_score(y, sb), rel=1e-12)
