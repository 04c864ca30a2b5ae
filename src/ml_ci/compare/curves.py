"""ROC and precision-recall curves of both models, thinned to a size a record can carry.

The curves are scikit-learn's (``roc_curve`` with ``drop_intermediate=True``,
``precision_recall_curve``); at most :data:`MAX_POINTS` of their points are kept, spread evenly
along the curve and always including both ends, so every stored point is a point of the full
curve. The report draws them; no gate reads them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from ml_ci.compare.inputs import Paired
from ml_ci.record.compare import Curve

MAX_POINTS = 200
Floats = npt.NDArray[np.float64]
Model = Literal["baseline", "candidate"]


def thin(x: Floats, y: Floats, max_points: int = MAX_POINTS) -> tuple[Floats, Floats]:
    """At most ``max_points`` points of the curve (x[i], y[i]), evenly spaced by index, with
    the first and the last always kept."""
    if len(x) <= max_points:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(np.int64))
    return x[keep], y[keep]


def roc(y_true: npt.NDArray[np.int64], score: Floats, model: Model) -> Curve:
    """False-positive rate (x) against true-positive rate (y); area = ROC AUC."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y_true, score, drop_intermediate=True)
    x, y = thin(fpr, tpr)
    area = float(roc_auc_score(y_true, score))
    return Curve(kind="roc", model=model, x=_rounded(x), y=_rounded(y), area=area)


def precision_recall(y_true: npt.NDArray[np.int64], score: Floats, model: Model) -> Curve:
    """Recall (x) against precision (y), recall rising; area = average precision."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(y_true, score)
    x, y = thin(recall[::-1], precision[::-1])
    area = float(average_precision_score(y_true, score))
    return Curve(kind="pr", model=model, x=_rounded(x), y=_rounded(y), area=area)


def binary_curves(table: Paired) -> list[Curve]:
    """ROC and PR curves of the baseline and the candidate (binary task with scores, both
    classes present); an empty list otherwise."""
    if table.task != "binary" or table.base.score is None or table.cand.score is None:
        return []
    y_true = np.asarray(table.y, dtype=np.int64)
    if len(np.unique(y_true)) < 2:
        return []
    sides: tuple[tuple[Model, Floats], ...] = (
        ("baseline", table.base.score),
        ("candidate", table.cand.score),
    )
    return [
        build(y_true, score, model) for model, score in sides for build in (roc, precision_recall)
    ]


def _rounded(values: Floats) -> list[float]:
    # six significant digits: far below a pixel, and a third of the JSON
    return [float(f"{value:.6g}") for value in values]
