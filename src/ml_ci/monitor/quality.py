"""Quality objectives (e.g. accuracy >= 0.88) over a window whose outcomes arrive late.

Burn-rate thresholds do not fit quality: an objective "accuracy >= 0.88" allows 12 % of rows
to be wrong, so the largest possible burn is 1 / 0.12 = 8.3 (a page at 14.4 could never fire),
and the short windows are empty while outcomes have not arrived. A quality objective is
instead a one-sided test on the rows whose outcome is known:

* ``upper`` = the one-sided (1 - alpha) Clopper-Pearson upper bound of accuracy from
  ``correct`` of ``labelled`` rows: ``Beta.ppf(1 - alpha, correct + 1, labelled - correct)``;
* breached when ``upper < minimum`` (significantly below the objective): ``ticket``;
  ``page`` only when ``upper < page_below`` (an optional, lower line);
* ``coverage`` = ``labelled / total``; below ``min_coverage`` there is no verdict ("not
  enough outcomes") rather than one on a biased few.

The estimate for the rows without outcomes follows NannyML's confidence-based performance
estimation (CBPE; NannyML docs, "How it works: performance estimation",
https://github.com/NannyML/nannyml/blob/v0.8.5/docs/how_it_works/performance_estimation.rst):
when a score is a calibrated probability ``p = P(y=1)``, a prediction of 1 is right with
probability ``p`` and a prediction of 0 with ``1 - p``, so the expected number of correct
predictions among ``u`` unlabelled rows is ``E = sum(p if y_pred == 1 else 1 - p)``. Over a
window, with ``c`` correct of ``n`` labelled rows::

    estimate = (c + E) / (n + u)

the accuracy of every scored row of the window, measured where the outcome arrived and
expected where it has not (each row counts once, :mod:`ml_ci.logs.buckets`). ``E / u`` is
unbiased for the unlabelled rows' accuracy only if the scores are calibrated ON THOSE ROWS
(NannyML's stated assumption: no concept drift, calibrated probabilities); a model that is
overconfident gives an estimate that is too high. So it is shown beside the measured value
and never raises an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from ml_ci.monitor.burn import Alert

QualityState = Literal["ok", "breached", "not_enough_outcomes", "no_requests"]


@dataclass(frozen=True)
class QualityCounts:
    """What the logs say about one window."""

    total: int  # requests served
    labelled: int  # of which the outcome has arrived
    correct: int  # of which the prediction was right
    expected_correct_unlabelled: float | None = None  # CBPE: sum of P(own prediction right)
    unlabelled_scored: int = 0  # rows (without outcome, with a score) that sum is over


@dataclass(frozen=True)
class QualityStatus:
    value: float | None  # measured accuracy on the labelled rows
    upper: float | None  # one-sided (1 - alpha) upper bound
    coverage: float | None
    estimate: float | None  # (correct + CBPE expected correct) / (labelled + unlabelled scored)
    state: QualityState
    alert: Alert
    estimate_rows: int = 0  # labelled + unlabelled scored: the rows the estimate is over
    estimated_rows: int = 0  # of which estimated from scores (no outcome yet)


def upper_bound(correct: int, labelled: int, alpha: float) -> float:
    """Clopper-Pearson one-sided (1 - alpha) upper bound of a proportion."""
    from scipy.stats import beta

    if labelled <= 0:
        raise ValueError("no labelled rows")
    if correct >= labelled:
        return 1.0
    return float(beta.ppf(1 - alpha, correct + 1, labelled - correct))


def evaluate_quality(
    counts: QualityCounts,
    *,
    minimum: float,
    alpha: float,
    min_coverage: float,
    page_below: float | None = None,
    min_labelled: int = 1,
) -> QualityStatus:
    """The state and alert of ``accuracy >= minimum`` over one window (see the module doc)."""
    if counts.total <= 0:
        return QualityStatus(None, None, None, None, "no_requests", "none")
    coverage = counts.labelled / counts.total
    estimate, rows, estimated = None, 0, 0
    if counts.expected_correct_unlabelled is not None and counts.unlabelled_scored > 0:
        # nothing to estimate without unlabelled scored rows: then the measured value is all
        rows, estimated = counts.labelled + counts.unlabelled_scored, counts.unlabelled_scored
        estimate = (counts.correct + counts.expected_correct_unlabelled) / rows
    if counts.labelled < max(min_labelled, 1) or coverage < min_coverage:
        value = counts.correct / counts.labelled if counts.labelled else None
        return QualityStatus(
            value, None, coverage, estimate, "not_enough_outcomes", "none", rows, estimated
        )
    value = counts.correct / counts.labelled
    upper = upper_bound(counts.correct, counts.labelled, alpha)
    alert: Alert = "none"  # from the measured rows only: the estimate never alerts
    if upper < minimum:
        alert = "page" if page_below is not None and upper < page_below else "ticket"
    state: QualityState = "breached" if alert != "none" else "ok"
    return QualityStatus(value, upper, coverage, estimate, state, alert, rows, estimated)


def expected_correct(scores: npt.ArrayLike, predictions: npt.ArrayLike) -> float:
    """CBPE: expected correct predictions of a binary model with calibrated scores ``P(y=1)``:
    ``sum(p if y_pred == 1 else 1 - p)`` (the log layer's per-row formula)."""
    from ml_ci.logs.buckets import own_probability

    p = np.asarray(scores, dtype=np.float64)
    y = np.asarray(predictions, dtype=np.float64)
    return float(own_probability(p, y).sum())
