"""Point metrics, one small function each; every value equals scikit-learn's.

Written with numpy (not sklearn) because sklearn's input validation dominates at 1M rows and
because the bootstrap needs the same formulas on resampled counts. ``tests/compare`` checks
each function against the sklearn function of the same name.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ml_ci.config.compare import is_fairness_metric

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Metrics where a smaller value is better; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset(
    {"log_loss", "brier", "mae", "rmse", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"}
)


def higher_is_better(metric: str) -> bool:
    # a fairness gap (max - min over groups) is better small
    return metric not in LOWER_IS_BETTER and not is_fairness_metric(metric)


# --- binary counts: precision, recall, f1 ---------------------------------------------


def ratio(num: Floats, den: Floats) -> Floats:
    """num / den, 0.0 where den is 0 (sklearn's zero_division=0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den > 0, num / np.where(den > 0, den, 1), 0.0))


def binary_count_metric(name: str, cells: Floats, model_bit: int) -> Floats:
    """precision / recall / f1 of one model from 2x2x2 cell counts (last axis, index
    y*4 + pred_baseline*2 + pred_candidate); ``model_bit`` 1 = baseline, 0 = candidate."""
    index = np.arange(8)
    label = index >> 2
    pred = (index >> model_bit) & 1
    tp = cells[..., (label == 1) & (pred == 1)].sum(axis=-1)
    fp = cells[..., (label == 0) & (pred == 1)].sum(axis=-1)
    fn = cells[..., (label == 1) & (pred == 0)].sum(axis=-1)
    if name == "precision":
        return ratio(tp, tp + fp)
    if name == "recall":
        return ratio(tp, tp + fn)
    return ratio(2 * tp, 2 * tp + fp + fn)


# --- probabilities ------------------------------------------------------------------------

EPS = float(np.finfo(np.float64).eps)


def binary_log_losses(y: Ints, p: Floats) -> Floats:
    """Per-row log loss; like sklearn, each class probability is clipped to [eps, 1 - eps]."""
    p1 = np.clip(p, EPS, 1 - EPS)
    p0 = np.clip(1 - p, EPS, 1 - EPS)
    return np.asarray(-np.where(y == 1, np.log(p1), np.log(p0)), dtype=np.float64)


def multiclass_log_losses(y_index: Ints, proba: Floats) -> Floats:
    """Per-row -log p(true class), p clipped to [eps, 1 - eps] (sklearn's log_loss)."""
    picked = proba[np.arange(len(y_index)), y_index]
    return np.asarray(-np.log(np.clip(picked, EPS, 1 - EPS)), dtype=np.float64)


def brier_losses(y: Ints, p: Floats) -> Floats:
    """Per-row (p - y)^2; the mean is sklearn's brier_score_loss."""
    return np.asarray((p - y) ** 2, dtype=np.float64)


# --- ranking ------------------------------------------------------------------------------


def tie_group_ends(sorted_score: Floats) -> Ints:
    """Index of the last row of each run of equal scores in a sorted score array."""
    change = np.flatnonzero(np.diff(sorted_score) != 0)
    return np.asarray(np.append(change, len(sorted_score) - 1), dtype=np.int64)


def average_precision_sorted(y_sorted: Floats, ends: Ints) -> float:
    """sklearn's average_precision_score: sum over thresholds of (R_k - R_{k-1}) * P_k.

    ``y_sorted`` is the label in descending-score order, ``ends`` the tie-group ends; the
    threshold steps are at distinct scores, so tied rows share one precision.
    """
    tp = np.cumsum(y_sorted)[ends]
    seen = ends + 1.0
    positives = tp[-1]
    if positives == 0:
        return 0.0
    gained = np.diff(tp, prepend=0.0)
    return float(np.sum(gained * (tp / seen)) / positives)


# --- multiclass counts --------------------------------------------------------------------


def f1_per_class(confusion: Floats) -> Floats:
    """Per-class f1 from a confusion matrix (rows true, columns predicted); 0 when undefined."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    predicted = confusion.sum(axis=-2)
    actual = confusion.sum(axis=-1)
    den = predicted + actual
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), 0.0)
    return np.asarray(f1, dtype=np.float64)


def f1_macro(confusion: Floats, present: npt.NDArray[np.bool_]) -> Floats:
    """Unweighted mean of per-class f1 over the labels present in y_true or y_pred.

    ``present`` marks those labels (sklearn averages over the union of labels it sees).
    Works on one matrix or a stack of them (the bootstrap).
    """
    return np.asarray(f1_per_class(confusion)[..., present].mean(axis=-1), dtype=np.float64)


def f1_weighted(confusion: Floats) -> Floats:
    """Per-class f1 weighted by the class's count in y_true."""
    support = confusion.sum(axis=-1)
    total = support.sum(axis=-1)
    weighted = (f1_per_class(confusion) * support).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(total > 0, weighted / np.where(total > 0, total, 1), 0.0))


def confusion(y_index: Ints, pred_index: Ints, k: int) -> Floats:
    return np.bincount(y_index * k + pred_index, minlength=k * k).reshape(k, k).astype(np.float64)


# --- regression ---------------------------------------------------------------------------


def r2_from_sums(sse: Floats | float, sst: Floats | float) -> Floats:
    """r2 = 1 - SSE / SST; like sklearn (force_finite): SST = 0 gives 1 if SSE = 0, else 0."""
    sse_a = np.asarray(sse, dtype=np.float64)
    sst_a = np.asarray(sst, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = 1 - sse_a / np.where(sst_a > 0, sst_a, 1)
    return np.asarray(np.where(sst_a > 0, value, np.where(sse_a == 0, 1.0, 0.0)))
