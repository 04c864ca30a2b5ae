"""Sufficient statistics of serving logs, per version and time bucket.

Every source (files today) reduces its rows to these, so everything downstream (canary looks,
monitor windows) is sums over buckets, never a rescan. Latency is counted in FIXED bins shared by
all sources (:data:`LATENCY_EDGES_MS`), so quantile bounds do not depend on where rows came from.
Outcome statistics are bucketed by when the outcome ARRIVED (``label_time``), so a replay that
sums buckets up to a look uses only outcomes known at that look. A labelled row without a score
is valid (not every request is scored): it counts in ``labelled`` but not in ``brier_sum`` /
``brier_rows``, so Brier's mean is ``brier_sum / brier_rows`` over the labelled, scored rows.

The confidence-based estimate (CBPE) of the rows WITHOUT an outcome is "as of ``window.now``":
``unlabelled_scored`` counts the rows served in the buckets whose outcome had not arrived in
the buckets by then (none yet, or ``label_time`` after ``now`` or after the last bucket) and
that carry ``y_pred`` and ``y_score``, in the bucket of their REQUEST; ``expected_correct`` sums
:func:`own_probability` over them. So every scored row served in the buckets counts exactly once
in ``labelled + unlabelled_scored``: in its outcome's arrival bucket, or else in its request
bucket, and a sum over any range of buckets is a disjoint set of rows. Unlike the outcome
statistics these are NOT replayable: the cumulative sum up to an earlier look counts a row
whose outcome came later as labelled (in a later bucket) and not as unlabelled, so the estimate
is only meaningful over ranges ending at ``now`` (the monitor's window and recent part).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

# Latency bins: [0, 0.1 ms), then geometric 2 % steps up to ~10 min, then [.., inf).
# Bin j is [edges[j], edges[j+1]). A 2 % step bounds the discretisation of a quantile by 2 %.
LATENCY_EDGES_MS: Array = np.concatenate(
    [[0.0], 0.1 * 1.02 ** np.arange(0, 790, dtype=float), [np.inf]]  # _FIRST, _GROWTH
)
_GROWTH = 1.02
_FIRST = 0.1


def latency_bins(latency_ms: Array) -> npt.NDArray[np.int64]:
    """Bin index ``j`` with ``edges[j] <= latency < edges[j+1]`` (same as
    ``searchsorted(edges, x, "right") - 1``), by logarithm instead of a binary search, then
    corrected by one where rounding put a value at an edge on the wrong side."""
    edges = LATENCY_EDGES_MS
    with np.errstate(divide="ignore"):
        guess = np.floor(np.log(np.maximum(latency_ms, 1e-300) / _FIRST) / np.log(_GROWTH)) + 1
    index = np.clip(guess, 0, len(edges) - 2).astype(np.int64)
    index -= latency_ms < edges[index]
    index += latency_ms >= edges[np.minimum(index + 1, len(edges) - 1)]
    result: npt.NDArray[np.int64] = np.clip(index, 0, len(edges) - 2)
    return result


SCORE_BINS = 20  # score histogram over [0, 1] (reported drift of outputs)

SCALARS = (
    "requests",
    "errors",
    "labelled",
    "correct",
    "pred_pos",
    "true_pos",
    "actual_pos",
    "brier_sum",
    "brier_rows",
    "unlabelled_scored",
    "expected_correct",
)


def own_probability(scores: Array, predictions: Array) -> Array:
    """P(the model's own prediction is right) from calibrated scores ``p = P(y=1)``:
    ``p`` for a predicted 1, ``1 - p`` for a predicted 0 (CBPE)."""
    result: Array = np.where(predictions == 1, scores, 1.0 - scores)
    return result


@dataclass
class Stats:
    """Statistics of one version: scalars with time as the LAST axis; ``latency`` and ``scores``
    with time as the second-to-last axis and bins last. Per bucket, or cumulative (see
    :meth:`cumulative`)."""

    requests: Array
    errors: Array
    labelled: Array
    correct: Array
    pred_pos: Array
    true_pos: Array
    actual_pos: Array
    brier_sum: Array  # sum of (y_score - y_true)^2 over the labelled rows WITH a score
    brier_rows: Array  # how many those are: the Brier mean is brier_sum / brier_rows
    latency: Array
    scores: Array = field(default_factory=lambda: np.zeros((0, SCORE_BINS)))
    # CBPE, as of ``now`` (see the module doc); empty when a caller builds Stats without them
    unlabelled_scored: Array = field(default_factory=lambda: np.zeros(0))
    expected_correct: Array = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def zeros(cls, buckets: int) -> Stats:
        scalars = {name: np.zeros(buckets) for name in SCALARS}
        return cls(
            **scalars,
            latency=np.zeros((buckets, len(LATENCY_EDGES_MS) - 1)),
            scores=np.zeros((buckets, SCORE_BINS)),
        )

    def cumulative(self) -> Stats:
        """Running totals over time: entry ``k`` covers buckets ``0..k``."""
        scalars = {name: _cumsum(getattr(self, name)) for name in SCALARS}
        return Stats(
            **scalars,
            latency=np.cumsum(self.latency, axis=-2),
            scores=np.cumsum(self.scores, axis=-2) if self.scores.size else self.scores,
        )

    def at(self, index: npt.NDArray[np.int64]) -> Stats:
        """The entries at time positions ``index`` (e.g. look ends of cumulative statistics)."""
        scalars = {name: _take(getattr(self, name), index) for name in SCALARS}
        return Stats(
            **scalars,
            latency=self.latency[..., index, :],
            scores=self.scores[..., index, :] if self.scores.size else self.scores,
        )


def _cumsum(values: Array) -> Array:
    return np.cumsum(values, axis=-1) if values.size else values


def _take(values: Array, index: npt.NDArray[np.int64]) -> Array:
    return values[..., index] if values.size else values


@dataclass
class Buckets:
    """Statistics per version over buckets ``[origin + k*width, origin + (k+1)*width)``."""

    origin: int  # epoch seconds (UTC)
    width: int  # seconds
    count: int
    versions: dict[str, Stats]
