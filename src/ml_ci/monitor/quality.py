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

The estimate for the rows without outcomes follows NannyML's CBPE idea: with calibrated
scores, the expected number of correct predictions among them is the sum over those rows of
the probability the model gave its own prediction (``p`` for a predicted 1, ``1 - p`` for 0).
It is shown beside the measured value and never used alone to alert.
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


@dataclass(frozen=True)
class QualityStatus:
    value: float | None  # measured accuracy on the labelled rows
    upper: float | None  # one-sided (1 - alpha) upper bound
    coverage: float | None
    estimate: float | None  # measured + CBPE estimate for the unlabelled rows
    state: QualityState
    alert: Alert


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
    estimate = None
    if counts.expected_correct_unlabelled is not None:
        estimate = (counts.correct + counts.expected_correct_unlabelled) / counts.total
    if counts.labelled < max(min_labelled, 1) or coverage < min_coverage:
        value = counts.correct / counts.labelled if counts.labelled else None
        return QualityStatus(value, None, coverage, estimate, "not_enough_outcomes", "none")
    value = counts.correct / counts.labelled
    upper = upper_bound(counts.correct, counts.labelled, alpha)
    alert: Alert = "none"
    if upper < minimum:
        alert = "page" if page_below is not None and upper < page_below else "ticket"
    state: QualityState = "breached" if alert != "none" else "ok"
    return QualityStatus(value, upper, coverage, estimate, state, alert)


def expected_correct(scores: npt.ArrayLike, predictions: npt.ArrayLike) -> float:
    """CBPE: expected correct predictions of a binary model with calibrated scores ``P(y=1)``:
    ``sum(p if y_pred == 1 else 1 - p)``."""
    p = np.asarray(scores, dtype=np.float64)
    y = np.asarray(predictions)
    return float(np.where(y == 1, p, 1 - p).sum())
