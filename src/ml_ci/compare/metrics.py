"""Point metrics, one small function each; every value equals scikit-learn's.

Written with numpy (not sklearn) because sklearn's input validation dominates at 1M rows and
because the bootstrap needs the same formulas on resampled counts. ``tests/compare`` checks
each function against the sklearn function of the same name.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Metrics where a smaller value is better; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset(
    {"log_loss", "brier", "mae", "rmse", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"}
)


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def _ratio(num: float, den: float) -> float:
    """num / den, 0.0 when den is 0 (sklearn's zero_division default)."""
    return float(num / den) if den else 0.0


# --- binary counts: tp, fp, fn from (y, y_pred) -------------------------------------------


def precision_from_counts(tp: float, fp: float) -> float:
    """precision = tp / (tp + fp)."""
    return _ratio(tp, tp + fp)


def recall_from_counts(tp: float, fn: float) -> float:
    """recall = tp / (tp + fn)."""
    return _ratio(tp, tp + fn)


def f1_from_counts(tp: float, fp: float, fn: float) -> float:
    """f1 = 2 tp / (2 tp + fp + fn) (the harmonic mean of precision and recall)."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


def binary_counts(y: Ints, pred: Ints) -> tuple[int, int, int]:
    """(tp, fp, fn) for labels in {0, 1}."""
    tp = int(np.count_nonzero((y == 1) & (pred == 1)))
    fp = int(np.count_nonzero((y == 0) & (pred == 1)))
    fn = int(np.count_nonzero((y == 1) & (pred == 0)))
    return tp, fp, fn


def accuracy(y: npt.NDArray[np.generic], pred: npt.NDArray[np.generic]) -> float:
    return float(np.mean(y == pred))


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


def descending_order(score: Floats) -> Ints:
    """Row order by score, highest first (stable, so ties keep table order)."""
    return np.asarray(np.argsort(-score, kind="stable"), dtype=np.int64)


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


def roc_auc_from_midranks(combined_rank_pos: Floats, n_neg: int) -> float:
    """Mann-Whitney: AUC = (sum of positives' midranks - m(m+1)/2) / (m n); ties count 1/2."""
    m = len(combined_rank_pos)
    return float((combined_rank_pos.sum() - m * (m + 1) / 2) / (m * n_neg))


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
