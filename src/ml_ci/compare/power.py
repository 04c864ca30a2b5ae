"""Minimum detectable effect before (or without) a candidate: is the evaluation set big enough
for the configured margins?

``planned_mde(task, metric, n, *, alpha, power=0.8, disagreement=None, baseline_value=None,
positives=None) -> float | None`` is the smallest true distance between delta and a gate's
threshold that a one-sided level-``alpha`` test detects with probability ``power``:

    MDE = (z_{1-alpha} + z_{power}) * SE(delta)

* accuracy (binary, multiclass): SE(delta)^2 = d / n, d the share of rows on which the two
  models disagree about correctness (McNemar's discordant pairs; the -delta^2/n term is
  dropped, it is of second order at the MDE).
* roc_auc (binary, needs ``positives``): SE(delta)^2 = 2 V (1 - rho), V the Hanley & McNeil
  (1982) variance of one AUC A with m positives and k negatives,
  V = [A(1-A) + (m-1)(A/(2-A) - A^2) + (k-1)(2A^2/(1+A) - A^2)] / (m k),
  and rho the correlation of the two AUC estimates, taken from the same disagreement through
  the accuracy analogy rho = 1 - d / (2 A (1 - A)) (clipped to [0, 1]).

**Assumption before a candidate exists** (``disagreement`` None): the two models disagree on
as many rows as the baseline gets wrong, d = 1 - baseline_value (its accuracy or its AUC).
Once a candidate exists, pass the measured disagreement (discordant rows / n); the compare
record's gates carry the MDE from the measured standard error (``GateResult.mde``).

Other metrics have no closed form without per-row losses: None (so does a missing input).
A gate is underpowered when its non-inferiority margin is below the MDE (``underpowered``).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from ml_ci.compare.estimates import POWER


def _z(p: float) -> float:
    """Phi^-1(p) (the standard library's; scipy is slow to import)."""
    return NormalDist().inv_cdf(p)


def hanley_mcneil_variance(auc: float, positives: int, negatives: int) -> float:
    """Hanley & McNeil (1982) variance of one AUC estimate (exact under the exponential
    model: negatives Exp(1), positives Exp(rate) with AUC = 1 / (1 + rate))."""
    a = auc
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    m, k = positives, negatives
    return (a * (1 - a) + (m - 1) * (q1 - a * a) + (k - 1) * (q2 - a * a)) / (m * k)


def planned_mde(
    task: str,
    metric: str,
    n: int,
    *,
    alpha: float,
    power: float = POWER,
    disagreement: float | None = None,
    baseline_value: float | None = None,
    positives: int | None = None,
) -> float | None:
    """The MDE of ``metric`` on ``n`` rows (metric units), or None when it cannot be planned.

    ``disagreement``: measured share of rows where the models disagree about correctness;
    None assumes 1 - ``baseline_value``. ``positives``: positive rows (roc_auc only).
    """
    if n <= 0:
        return None
    d = disagreement
    if d is None:
        if baseline_value is None or not 0 <= baseline_value <= 1:
            return None
        d = 1 - baseline_value
    d = min(max(d, 0.0), 1.0)
    z = _z(1 - alpha) + _z(power)
    if metric == "accuracy" and task in ("binary", "multiclass"):
        return z * math.sqrt(d / n)
    if metric == "roc_auc" and task == "binary":
        if positives is None or baseline_value is None or not 0 < positives < n:
            return None
        a = baseline_value
        if not 0 < a < 1:
            return None
        rho = min(max(1 - d / (2 * a * (1 - a)), 0.0), 1.0)
        variance = 2 * hanley_mcneil_variance(a, positives, n - positives) * (1 - rho)
        return z * math.sqrt(max(variance, 0.0))
    return None


def underpowered(rule: str, margin: float, mde: float | None) -> bool:
    """A non-inferiority margin below the MDE: a candidate as good as the baseline would
    mostly be inconclusive (the other rules ask for an effect, not a margin)."""
    return rule == "non_inferior" and mde is not None and mde > margin
