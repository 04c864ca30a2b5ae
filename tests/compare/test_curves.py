"""ROC / PR curves in the record: points of scikit-learn's curves, thinned, both models."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from ml_ci.compare import curves
from ml_ci.compare.inputs import Paired, Side
from ml_ci.record.compare import Curve
from tests.compare.helpers import binary_scores


def _on_curve(curve: Curve, xs: np.ndarray, ys: np.ndarray) -> bool:
    """Every stored point is (to the stored 6 digits) one of the full curve's points."""
    full = np.column_stack([xs, ys])
    return all(
        np.isclose(full, [x, y], rtol=1e-5, atol=1e-9).all(axis=1).any()
        for x, y in zip(curve.x, curve.y, strict=True)
    )


def test_thin_keeps_both_ends_and_only_real_points() -> None:
    x, y = np.linspace(0, 1, 1001), np.linspace(0, 1, 1001) ** 2
    tx, ty = curves.thin(x, y, max_points=50)
    assert len(tx) <= 50 and (tx[0], tx[-1]) == (0.0, 1.0)
    assert np.isin(tx, x).all() and np.allclose(ty, tx**2)
    short = curves.thin(x[:10], y[:10], max_points=50)
    assert len(short[0]) == 10  # nothing to thin


@pytest.mark.parametrize("n", [300, 20_000])
def test_roc_and_pr_are_points_of_sklearns_curves(n: int) -> None:
    y, _, score = binary_scores(n, seed=n, decimals=None)
    roc = curves.roc(y, score, "candidate")
    fpr, tpr, _ = roc_curve(y, score)
    assert len(roc.x) <= curves.MAX_POINTS and _on_curve(roc, fpr, tpr)
    assert (roc.x[0], roc.y[0], roc.x[-1], roc.y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert roc.area == pytest.approx(roc_auc_score(y, score))
    pr = curves.precision_recall(y, score, "candidate")
    precision, recall, _ = precision_recall_curve(y, score)
    assert len(pr.x) <= curves.MAX_POINTS and _on_curve(pr, recall, precision)
    assert pr.x == sorted(pr.x)  # recall rising, for drawing left to right
    assert pr.area == pytest.approx(average_precision_score(y, score))


def test_both_models_binary_only() -> None:
    y, sb, sc = binary_scores(500, seed=3)
    table = Paired(
        "binary",
        y,
        Side((sb >= 0.5).astype(np.int64), sb, None),
        Side((sc >= 0.5).astype(np.int64), sc, None),
        ["0", "1"],
    )
    found = [(c.model, c.kind) for c in curves.binary_curves(table)]
    assert found == [
        ("baseline", "roc"),
        ("baseline", "pr"),
        ("candidate", "roc"),
        ("candidate", "pr"),
    ]
    one_class = table.subset(y == 1)
    assert curves.binary_curves(one_class) == []  # no curve without both classes
    regression = Paired("regression", sb, Side(sb, None, None), Side(sc, None, None), [])
    assert curves.binary_curves(regression) == []


@pytest.mark.parametrize("decimals", [1, 2, None])
def test_unthinned_curves_equal_sklearns_point_for_point(decimals: int | None) -> None:
    """Below MAX_POINTS distinct scores nothing is thinned: the curves derived from the
    engine's sort are sklearn's arrays exactly (ties included)."""
    y, score, _ = binary_scores(150, seed=9, decimals=decimals)
    fpr, tpr, _ = roc_curve(y, score)
    roc = curves.roc(y, score, "baseline")
    if len(fpr) <= curves.MAX_POINTS:
        assert np.allclose(roc.x, fpr, rtol=1e-5) and np.allclose(roc.y, tpr, rtol=1e-5)
    precision, recall, _ = precision_recall_curve(y, score)
    pr = curves.precision_recall(y, score, "baseline")
    if len(recall) <= curves.MAX_POINTS:
        assert np.allclose(pr.x, recall[::-1], rtol=1e-5)
        assert np.allclose(pr.y, precision[::-1], rtol=1e-5)
    assert roc.area == pytest.approx(roc_auc_score(y, score), rel=1e-12)
    assert pr.area == pytest.approx(average_precision_score(y, score), rel=1e-12)
