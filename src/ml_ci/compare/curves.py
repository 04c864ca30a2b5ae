"""ROC and precision-recall curves of both models, thinned to a size a record can carry.

The curves are scikit-learn's (``roc_curve`` with ``drop_intermediate=True``,
``precision_recall_curve``), derived here from the descending-score order the engine already
sorted for DeLong and average precision (:class:`~ml_ci.compare.bootstrap.Ranked`): the
cumulative true and false positives at each distinct score are the curve. At most
:data:`MAX_POINTS` points are kept, spread evenly along the curve and always including both
ends, so every stored point is a point of the full curve. The report draws them; no gate
reads them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from ml_ci.compare.bootstrap import Ranked
from ml_ci.compare.inputs import Paired
from ml_ci.compare.metrics import average_precision_sorted, tie_group_ends
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


def rank(y_true: npt.NDArray[np.int64], score: Floats) -> Ranked:
    """Labels in descending-score order and the tie-group ends (one sort)."""
    order = np.argsort(score)[::-1]
    return Ranked(order, y_true[order].astype(np.float64), tie_group_ends(score[order]))


def _counts(ranked: Ranked) -> tuple[Floats, Floats]:
    """Cumulative true / false positives at each distinct score, highest score first
    (sklearn's ``_binary_clf_curve``)."""
    tps = np.cumsum(ranked.y_sorted)[ranked.ends]
    return tps, ranked.ends + 1.0 - tps


def roc_from_ranked(ranked: Ranked, model: Model) -> Curve:
    """False-positive rate (x) against true-positive rate (y); area = ROC AUC (trapezoids).

    sklearn's drop_intermediate: keep the ends and every point where the second difference
    of fps or tps is non-zero (collinear points go); then (0, 0) in front."""
    tps, fps = _counts(ranked)
    if len(fps) > 2:
        keep = np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True]
        tps, fps = tps[keep], fps[keep]
    fpr = np.r_[0.0, fps] / fps[-1]
    tpr = np.r_[0.0, tps] / tps[-1]
    x, y = thin(fpr, tpr)
    area = float(np.trapezoid(tpr, fpr))
    return Curve(kind="roc", model=model, x=_rounded(x), y=_rounded(y), area=area)


def pr_from_ranked(ranked: Ranked, model: Model) -> Curve:
    """Recall (x) against precision (y), recall rising from (0, 1); area = average
    precision."""
    tps, fps = _counts(ranked)
    precision = np.r_[1.0, tps / (tps + fps)]
    recall = np.r_[0.0, tps / tps[-1]]
    x, y = thin(recall, precision)
    area = average_precision_sorted(ranked.y_sorted, ranked.ends)
    return Curve(kind="pr", model=model, x=_rounded(x), y=_rounded(y), area=area)


def roc(y_true: npt.NDArray[np.int64], score: Floats, model: Model) -> Curve:
    return roc_from_ranked(rank(y_true, score), model)


def precision_recall(y_true: npt.NDArray[np.int64], score: Floats, model: Model) -> Curve:
    return pr_from_ranked(rank(y_true, score), model)


def binary_curves(table: Paired, ranked: list[Ranked] | None = None) -> list[Curve]:
    """ROC and PR curves of the baseline and the candidate (binary task with scores, both
    classes present); an empty list otherwise. ``ranked``: the two models' orders when the
    caller already sorted (the engine does, for DeLong and average precision)."""
    if table.task != "binary" or table.base.score is None or table.cand.score is None:
        return []
    y_true = np.asarray(table.y, dtype=np.int64)
    positives = int(y_true.sum())
    if positives == 0 or positives == len(y_true):
        return []
    if ranked is None:
        ranked = [rank(y_true, table.base.score), rank(y_true, table.cand.score)]
    models: tuple[Model, Model] = ("baseline", "candidate")
    return [
        build(r, model)
        for model, r in zip(models, ranked, strict=True)
        for build in (roc_from_ranked, pr_from_ranked)
    ]


def _rounded(values: Floats) -> list[float]:
    # six significant digits: far below a pixel, and a third of the JSON
    return [float(f"{value:.6g}") for value in values]
