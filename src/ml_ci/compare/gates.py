"""Gate verdicts: margins, one-sided bounds, Holm, minimum detectable effect.

A gate asks a one-sided question about a quantity theta with an :class:`Estimate`:

=============  =================  ===========================================
rule           higher is better    lower is better (log_loss, brier, mae, ...)
=============  =================  ===========================================
non_inferior   delta > -margin     delta < +margin
superior       delta > +margin     delta < -margin
absolute       min < cand < max    (same: the bounds are on the candidate value)
=============  =================  ===========================================

``p_value`` is the one-sided p-value of H0 "the question's answer is no". The gate passes when
the (Holm-adjusted) p-value is below alpha; with ``correction: none`` that is exactly "the
one-sided (1 - alpha) confidence bound clears the threshold" (see :mod:`.estimates`). It fails
when the opposite one-sided bound is on the wrong side of the threshold (the interval lies
entirely there), and is inconclusive otherwise.

A tie with the threshold is never evidence, either way: a value equal to the threshold up to
rounding (rel 1e-9, abs 1e-12) counts as neither above nor below it, so superiority at a delta
of exactly 0 cannot pass (and a bootstrap replicate at the threshold is not above it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ml_ci.compare.estimates import Estimate, PointEstimate
from ml_ci.compare.fairness import GapChange
from ml_ci.compare.metrics import higher_is_better
from ml_ci.config.compare import Gate

REL_TOL = 1e-9
ABS_TOL = 1e-12


def tolerance(threshold: float) -> float:
    """The math.isclose tolerance around ``threshold``."""
    return max(REL_TOL * abs(threshold), ABS_TOL)


@dataclass(frozen=True)
class MetricStats:
    """One metric on one set of rows (all rows, or a slice), with its uncertainty."""

    name: str
    slice: str | None
    baseline: float | None
    candidate: float | None
    delta: Estimate | None  # candidate - baseline, paired
    candidate_estimate: Estimate | None  # the candidate's own value (absolute gates)
    p_value: float | None  # two-sided, delta = 0
    method: str
    n: int


@dataclass
class GateCheck:
    """A gate applied to one metric/slice, before the multiple-testing correction."""

    gate: Gate
    stats: MetricStats
    margin: float
    threshold: float | None
    bound: float | None
    p_value: float | None  # one-sided, small = the gate's question answered yes
    p_opposite: float | None  # one-sided, small = clearly on the wrong side
    mde: float | None
    notes: list[str]
    in_family: bool  # takes part in the Holm correction
    forced_fail: str | None = None  # leakage guard
    below_min: bool = False
    undefined: bool = False  # the metric is undefined on these rows (e.g. a one-class slice)
    groups: str | None = None  # fairness gates: the grouping the gap is taken over


def effective_margin(gate: Gate, baseline: float | None) -> tuple[float, str | None]:
    """The margin in metric units: ``margin`` or, when relative, margin x |baseline|.

    A relative margin on a baseline of 0 is undefined: it is treated as 0 and said so.
    """
    if not gate.relative:
        return gate.margin, None
    if baseline is None or baseline == 0:
        return 0.0, "relative margin on a baseline of 0 is undefined: used margin 0"
    return gate.margin * abs(baseline), None


def check_gate(
    gate: Gate,
    stats: MetricStats,
    alpha: float,
    *,
    max_improvement: float | None = None,
    below_min: bool = False,
    undefined: bool = False,
) -> GateCheck:
    """Thresholds, bound and one-sided p-values of ``gate`` on ``stats`` (not yet corrected).

    ``undefined``: the metric has no value on these rows (a slice with one class has no ROC
    AUC); the check is reported, left out of the family and of the verdict.
    """
    higher = higher_is_better(stats.name)
    notes: list[str] = []
    if gate.rule == "absolute":
        est = stats.candidate_estimate
        margin = 0.0
        threshold, bound, p, p_opp = _absolute(gate, est, alpha)
    else:
        est = stats.delta
        margin, note = effective_margin(gate, stats.baseline)
        if note:
            notes.append(note)
        sign = 1.0 if gate.rule == "superior" else -1.0
        threshold = sign * margin if higher else -sign * margin
        if est is None:
            bound = p = p_opp = None
        elif higher:  # need delta > threshold; a tie (within rounding) is on neither side
            tol = tolerance(threshold)
            bound, p, p_opp = (
                est.lower(alpha),
                est.p_above(threshold + tol),
                est.p_below(threshold - tol),
            )
        else:  # need delta < threshold
            tol = tolerance(threshold)
            bound, p, p_opp = (
                est.upper(alpha),
                est.p_below(threshold - tol),
                est.p_above(threshold + tol),
            )
    forced = None
    if max_improvement is not None and gate.rule != "absolute" and stats.delta is not None:
        improvement = stats.delta.value if higher else -stats.delta.value
        if improvement > max_improvement + tolerance(max_improvement):
            forced = (
                f"improvement {improvement:.4g} exceeds compare.max_improvement "
                f"{max_improvement:g}: suspiciously large, check for leakage"
            )
    point_only = est is None or isinstance(est, PointEstimate)
    if isinstance(est, PointEstimate):
        notes.append(f"{est.method}: no interval, decided on the measured value")
    return GateCheck(
        gate=gate,
        stats=stats,
        margin=margin,
        threshold=threshold,
        bound=bound,
        p_value=p,
        p_opposite=p_opp,
        mde=None if est is None else est.mde(alpha),
        notes=notes,
        in_family=not point_only and not below_min and not undefined and p is not None,
        forced_fail=forced,
        below_min=below_min,
        undefined=undefined,
    )


def _absolute(
    gate: Gate, est: Estimate | None, alpha: float
) -> tuple[float | None, float | None, float | None, float | None]:
    """(threshold, bound, p, p_opposite) of min <= candidate <= max (intersection-union)."""
    if est is None:
        return gate.min if gate.max is None else gate.max, None, None, None
    ps: list[float] = []
    opposite: list[float] = []
    threshold = bound = None
    # ties with min / max (within rounding) are evidence for neither side, as above
    if gate.min is not None:
        tol = tolerance(gate.min)
        ps.append(est.p_above(gate.min + tol))
        opposite.append(est.p_below(gate.min - tol))
        threshold, bound = gate.min, est.lower(alpha)
    if gate.max is not None:
        tol = tolerance(gate.max)
        ps.append(est.p_below(gate.max - tol))
        opposite.append(est.p_above(gate.max + tol))
        if threshold is None:
            threshold, bound = gate.max, est.upper(alpha)
    return threshold, bound, max(ps), min(opposite)


def fairness_check(
    gate: Gate,
    groups: str,
    change: GapChange,
    p_opposite: float | None,
    n: int,
    notes: list[str],
) -> GateCheck:
    """A fairness gate as a check of the common family: ``change.p_value`` (H0: the gap
    widened by at least the margin; ``absolute``: the candidate's gap is at least ``max``)
    is its one-sided p; ``p_opposite`` (H0: it widened by at
    most the margin) decides a clear fail. No bound (fewer than 2 gated groups, an undefined
    rate): reported, left out of the family and of the verdict."""
    undefined = change.p_value is None
    method = (
        f"undefined: {change.reason}"
        if undefined
        else "simultaneous paired Poisson bootstrap bound on the change of the gap"
    )
    stats = MetricStats(
        change.metric,
        None,
        change.baseline,
        change.candidate,
        None,
        None,
        None,
        method,
        n,
    )
    cap = gate.rule == "absolute"
    return GateCheck(
        gate=gate,
        stats=stats,
        margin=0.0 if cap else gate.margin,
        threshold=gate.max if cap else gate.margin,
        bound=change.upper,
        p_value=change.p_value,
        p_opposite=p_opposite,
        mde=None,
        notes=notes,
        in_family=not undefined,
        undefined=undefined,
        groups=groups,
    )


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values: sort ascending, p_(i) * (m - i + 1) (i from 1),
    running maximum, capped at 1; returned in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class GateOutcome:
    check: GateCheck
    adjusted_p_value: float | None
    verdict: str  # pass | fail | inconclusive
    reason: str


UNCHANGED = "unchanged: the candidate's predictions equal the baseline's on every row"


def decide(
    checks: list[GateCheck], alpha: float, correction: str, *, unchanged: bool = False
) -> list[GateOutcome]:
    """Apply the correction to the family and give each check its verdict and reason.

    ``unchanged`` (identical y_pred and scores on every row): non-inferiority and absolute
    gates on prediction metrics pass as unchanged (the model is the accepted baseline on
    these rows); superiority gates are inconclusive (no evidence of an improvement); latency
    gates are decided as usual (timing is not part of the predictions).
    """
    family = [i for i, c in enumerate(checks) if c.in_family]
    raw = [float(checks[i].p_value) for i in family]  # type: ignore[arg-type]
    adjusted_family = holm(raw) if correction == "holm" else raw
    adjusted: dict[int, float] = dict(zip(family, adjusted_family, strict=True))
    outcomes = []
    for i, check in enumerate(checks):
        adj = adjusted.get(i, check.p_value)
        if unchanged and not check.stats.name.startswith("latency_"):
            if check.gate.rule == "superior":
                verdict, reason = "inconclusive", UNCHANGED + ": no evidence of superiority"
            else:
                verdict, reason = "pass", UNCHANGED
        else:
            verdict, reason = _verdict(check, adj, alpha, correction, len(family))
        outcomes.append(GateOutcome(check, adj, verdict, reason))
    return outcomes


def _verdict(
    check: GateCheck, adjusted: float | None, alpha: float, correction: str, family: int
) -> tuple[str, str]:
    notes = list(check.notes)
    stats = check.stats
    if check.undefined:
        where = f" by {check.groups}" if check.groups else " in this slice"
        return "inconclusive", "; ".join(
            [f"{stats.method}{where}: left out of the gates (cannot pass or fail)", *notes]
        )
    if check.p_value is None or adjusted is None:
        return "inconclusive", "; ".join([*notes, "no estimate for this metric"])
    describe = _describe(check)
    if check.below_min:
        verdict = "pass" if check.p_value < alpha else "inconclusive"
        return verdict, "; ".join(
            [describe, f"below min_size (n={stats.n}): reported, cannot fail", *notes]
        )
    if check.forced_fail:
        return "fail", "; ".join([check.forced_fail, describe, *notes])
    if adjusted < alpha:
        shown = "< 0.001" if adjusted < 0.001 else f"= {adjusted:.3g} < {alpha:g}"
        label = (
            f"Holm-adjusted gate p {shown} (family of {family})"
            if correction == "holm" and check.in_family
            else f"gate p {shown}"
        )
        return "pass", "; ".join([describe, label, *notes])
    if check.p_opposite is not None and check.p_opposite < alpha:
        return "fail", "; ".join([describe, "the interval lies entirely on the wrong side", *notes])
    mde = f"; minimum detectable effect at this n: {check.mde:.3g}" if check.mde is not None else ""
    return "inconclusive", "; ".join(
        [describe + ", the interval straddles the threshold" + mde, *notes]
    )


def _describe(check: GateCheck) -> str:
    gate = check.gate
    higher = higher_is_better(check.stats.name)
    subject = "candidate" if gate.rule == "absolute" else "delta"
    if check.groups:
        what = "the candidate's gap" if gate.rule == "absolute" else "the change of the gap"
        subject = f"{what} by {check.groups}"
    side = (
        "lower"
        if (gate.rule == "absolute" and gate.min is not None and not check.groups)
        or (gate.rule != "absolute" and higher)
        else "upper"
    )
    bound = "n/a" if check.bound is None or not math.isfinite(check.bound) else f"{check.bound:.4g}"
    return (
        f"one-sided {side} bound of {subject} {bound} vs threshold {check.threshold:.4g}"
        if check.threshold is not None
        else f"{side} bound {bound}"
    )
