"""From the evaluation record to what the report shows: the verdict and ordered rows.

Pure functions over :class:`~ml_ci.record.EvaluationRecord`; the templates only lay out
what this module decides (which rows, in which order, what the verdict says and why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ml_ci.record import EvaluationRecord
from ml_ci.record.compare import CompareSection, FairnessResult, GateResult, MetricResult

VerdictLabel = Literal["pass", "fail", "inconclusive", "needs human validation"]
StatusState = Literal["success", "failure", "pending"]

LATENCY_PREFIX = "latency_"
# Metrics where smaller is better: their non-inferiority margin lies above zero.
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse"})
VERDICT_ORDER = {"fail": 0, "inconclusive": 1, "pass": 2}


def lower_is_better(metric: str) -> bool:
    # a fairness gap (demographic_parity_difference, gap:recall, ...) is better small
    return (
        metric in LOWER_IS_BETTER
        or metric.startswith(LATENCY_PREFIX)
        or metric.endswith("_difference")
        or metric.startswith("gap:")
    )


@dataclass(frozen=True)
class Verdict:
    """The one-line answer: what, why, and the commit status state that goes with it."""

    label: VerdictLabel
    reason: str
    state: StatusState

    @property
    def icon(self) -> str:
        return {"pass": "✅", "fail": "❌", "inconclusive": "⚠️"}.get(self.label, "🧑‍⚖️")

    @property
    def line(self) -> str:
        return f"{self.label.upper()}: {self.reason}"


_P_IN_TEXT = re.compile(r"\bp\s*=\s*(-?\d+(?:\.\d*)?(?:e-?\d+)?)", re.I)


def tidy_p(text: str | None) -> str | None:
    """``p=0`` / ``p=3e-09`` in a reason read as ``p < 0.001`` (the report's one p format)."""
    if text is None:
        return None

    def small(match: re.Match[str]) -> str:
        value = float(match.group(1))
        return "p < 0.001" if value < 0.001 else match.group(0)

    return _P_IN_TEXT.sub(small, text)


def below_min_size(gate: GateResult) -> bool:
    """A slice below ``slices.min_size``: reported, never decides (the compare stage says so
    in the reason)."""
    return gate.slice is not None and "below min_size" in (gate.reason or "")


def deciding(gate: GateResult) -> bool:
    """Whether a gate takes part in the verdict (not below min_size, not undefined)."""
    return not (below_min_size(gate) or gate.undefined)


def gate_summary(compare: CompareSection) -> str:
    """What the gates did, in words: "3 gates passed; 2 slices below min_size reported only"."""
    decide = [g for g in compare.gates if deciding(g)]
    reported = sum(below_min_size(g) for g in compare.gates)
    undefined = sum(g.undefined for g in compare.gates)
    counts = {v: sum(g.verdict == v for g in decide) for v in ("pass", "fail", "inconclusive")}
    if counts["pass"] == len(decide):
        text = f"all {len(decide)} gates passed" if decide else "no gate decided"
    else:
        parts = [f"{counts['fail']} failed"] if counts["fail"] else []
        parts += [f"{counts['inconclusive']} inconclusive"] if counts["inconclusive"] else []
        parts.append(f"{counts['pass']} passed")
        text = f"{len(decide)} gates: " + ", ".join(parts)
    if compare.unchanged:
        text += " (unchanged: the predictions equal the baseline's on every row)"
    if reported:
        text += (
            f"; {reported} slice gate{'s' if reported != 1 else ''} below slices.min_size "
            "reported only (cannot fail)"
        )
    if undefined:
        text += f"; {undefined} undefined on its slice (not gated)"
    return text


def _names(gates: list[GateResult], limit: int = 3) -> str:
    gates = sorted(gates, key=lambda g: g.slice is not None)  # whole-data gates first
    shown = [
        g.metric + (f" [{g.slice}]" if g.slice else "") + (f" by {g.groups}" if g.groups else "")
        for g in gates[:limit]
    ]
    more = f" and {len(gates) - limit} more" if len(gates) > limit else ""
    return ", ".join(shown) + more


def overall_verdict(record: EvaluationRecord) -> Verdict:
    """pass / fail / inconclusive / needs human validation, with the deciding reason.

    Order of precedence: a failed reproduction, then failed gates, then inconclusive gates,
    then significant drift (a person must sign off), then pass. Inconclusive maps to a
    failing status (the gate could not show the candidate is good enough) unless the
    config says ``compare.inconclusive: pass`` or ``warn``.
    """
    repro = record.repro
    if repro is not None and repro.verdict in ("mismatch", "nondeterministic"):
        bad = [o.path for o in repro.outputs if not o.match]
        where = f" ({', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''})" if bad else ""
        return Verdict("fail", f"reproduction {repro.verdict}{where}", "failure")
    compare = record.compare
    if compare is not None:
        decide = [g for g in compare.gates if deciding(g)]
        failed = [g for g in decide if g.verdict == "fail"]
        unsure = [g for g in decide if g.verdict == "inconclusive"]
        total = len(decide)
        if compare.verdict == "fail":
            reason = (
                f"{len(failed)} of {total} gates failed: {_names(failed)}"
                if failed
                else ("the comparison failed")
            )
            return Verdict("fail", reason, "failure")
        if compare.verdict == "inconclusive":
            reason = (
                f"{len(unsure)} of {total} gates inconclusive: {_names(unsure)} "
                "(the interval spans the margin; more data would decide)"
            )
            # the team's compare.inconclusive setting decides whether it blocks the merge
            lenient = compare.inconclusive in ("pass", "warn")
            return Verdict("inconclusive", reason, "success" if lenient else "failure")
    if record.needs_human and record.drift is not None:
        drifted = [c.column for c in record.drift.columns if c.drifted]
        reason = (
            f"significant data drift in {len(drifted)} of {len(record.drift.columns)} columns "
            f"({record.drift.share_drifted:.0%}): {', '.join(drifted[:3])}"
            + (" ..." if len(drifted) > 3 else "")
        )
        signed = record.governance
        if signed is not None and signed.satisfied and signed.approved_by:
            # a person has validated the drift at this head: the check may go green
            return Verdict(
                "pass", f"{reason}; signed off by {', '.join(signed.approved_by)}", "success"
            )
        return Verdict("needs human validation", reason, "pending")
    if compare is not None:
        return Verdict("pass", gate_summary(compare), "success")
    return Verdict("inconclusive", "no comparison in the record yet (run ml-ci compare)", "pending")


@dataclass(frozen=True)
class GateRow:
    """One gate joined with the metric it tests."""

    metric: str
    slice: str | None
    rule: str
    margin: float
    verdict: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    gate_p_value: float | None
    adjusted_p_value: float | None
    reason: str | None
    n: int | None
    lower_is_better: bool
    threshold: float | None = None
    mde: float | None = None
    relative: bool = False
    min: float | None = None
    max: float | None = None
    below_min: bool = False
    underpowered: bool | None = None
    undefined: bool = False
    groups: str | None = None  # fairness gates: the grouping

    @property
    def label(self) -> str:
        by = f" by {self.groups}" if self.groups else ""
        return self.metric + (f" [{self.slice}]" if self.slice else "") + by

    @property
    def rule_text(self) -> str:
        """The rule and its margin or limits, e.g. ``non_inferior (0.01)``, ``absolute (<= 20)``."""
        if self.rule == "absolute":
            parts = [f"{self.min:g} <="] if self.min is not None else []
            parts.append("value")
            parts += [f"<= {self.max:g}"] if self.max is not None else []
            return (
                f"absolute ({' '.join(parts)})" if len(parts) > 1 else f"absolute ({self.margin:g})"
            )
        margin = f"{self.margin * 100:.3g}% of baseline" if self.relative else f"{self.margin:.4g}"
        return f"{self.rule} ({margin})"

    @property
    def bound(self) -> float | None:
        """Where the margin sits on the delta axis (None for absolute rules).

        The compare stage's ``threshold`` already accounts for relative margins and for
        metrics where lower is better; older records without it fall back to the margin.
        """
        if self.rule == "absolute":
            return None
        if self.threshold is not None:
            return self.threshold
        sign = 1.0 if self.lower_is_better else -1.0
        if self.rule == "superior":
            sign = -sign
        return sign * self.margin


def gate_rows(record: EvaluationRecord) -> list[GateRow]:
    """Every gate with its metric numbers: failed first, then inconclusive, then passed."""
    if record.compare is None:
        return []
    metrics: dict[tuple[str, str | None], MetricResult] = {
        (m.name, m.slice): m for m in record.compare.metrics
    }
    fair = {(f.metric, f.groups): f for f in record.compare.fairness}
    rows = []
    for gate in record.compare.gates:
        metric = metrics.get((gate.metric, gate.slice))
        gap = fair.get((gate.metric, gate.groups)) if gate.groups else None
        if gap is not None:
            rows.append(_fairness_row(gate, gap))
            continue
        rows.append(
            GateRow(
                metric=gate.metric,
                slice=gate.slice,
                rule=gate.rule,
                margin=gate.margin,
                verdict=gate.verdict,
                baseline=metric.baseline if metric else None,
                candidate=metric.candidate if metric else None,
                delta=metric.delta if metric else None,
                ci_low=metric.ci_low if metric else None,
                ci_high=metric.ci_high if metric else None,
                p_value=metric.p_value if metric else None,
                gate_p_value=gate.p_value,
                adjusted_p_value=gate.adjusted_p_value,
                reason=tidy_p(gate.reason),
                n=metric.n if metric else None,
                lower_is_better=lower_is_better(gate.metric),
                threshold=gate.threshold,
                mde=gate.mde,
                relative=gate.relative,
                min=gate.min,
                max=gate.max,
                below_min=below_min_size(gate),
                underpowered=gate.underpowered,
                undefined=gate.undefined,
            )
        )
    # stable: within a verdict, the compare stage's order is kept
    return sorted(rows, key=lambda r: VERDICT_ORDER.get(r.verdict, 3))


def _fairness_row(gate: GateResult, gap: FairnessResult) -> GateRow:
    """A fairness gate in the gates table: the gaps as baseline / candidate, their change as
    delta (its one-sided bound is in the fairness table: it is not a two-sided interval)."""
    return GateRow(
        metric=gate.metric,
        slice=None,
        rule=gate.rule,
        margin=gate.margin,
        verdict=gate.verdict,
        baseline=gap.baseline,
        candidate=gap.candidate,
        delta=gap.delta,
        ci_low=None,
        ci_high=None,
        p_value=None,
        gate_p_value=gate.p_value,
        adjusted_p_value=gate.adjusted_p_value,
        reason=tidy_p(gate.reason),
        n=sum(r.n for r in gap.by_group if r.rate == gap.by_group[0].rate)
        if gap.by_group
        else None,
        lower_is_better=True,
        threshold=gate.threshold,
        undefined=gate.undefined,
        groups=gate.groups,
    )


@dataclass(frozen=True)
class GroupRow:
    """One group of a fairness grouping: its size and each rate of both models."""

    group: str
    n: int
    gated: bool
    rates: list[tuple[str, float | None, float | None]]  # (rate, baseline, candidate)


@dataclass(frozen=True)
class FairnessView:
    """One grouping: its gates (gap of both models, change, one-sided bound) and groups."""

    groups: str
    gates: list[FairnessResult]
    rows: list[GroupRow]
    rate_names: list[str]


def fairness_views(compare: CompareSection | None) -> list[FairnessView]:
    """Fairness results grouped by grouping, each with one per-group table of every rate
    its gates use (a group's rate appears once even when two gates use it)."""
    if compare is None or not compare.fairness:
        return []
    out = []
    for groups in dict.fromkeys(f.groups for f in compare.fairness):
        gates = [f for f in compare.fairness if f.groups == groups]
        rates: dict[tuple[str, str], tuple[float | None, float | None]] = {}
        sizes: dict[str, tuple[int, bool]] = {}
        for f in gates:
            for r in f.by_group:
                rates[(r.group, r.rate)] = (r.baseline, r.candidate)
                sizes[r.group] = (r.n, r.gated)
        names = list(dict.fromkeys(rate for _, rate in rates))
        rows = [
            GroupRow(
                group,
                n,
                gated,
                [(rate, *rates.get((group, rate), (None, None))) for rate in names],
            )
            for group, (n, gated) in sizes.items()
        ]
        out.append(FairnessView(groups, gates, rows, names))
    return out


@dataclass(frozen=True)
class MetricRow:
    """A computed metric no gate tests; ``worse`` None when the record does not say."""

    name: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    adjusted_p_value: float | None
    n: int
    worse: bool | None

    @property
    def label(self) -> str:
        return self.name


def ungated_rows(record: EvaluationRecord) -> list[MetricRow]:
    """Every whole-data metric without a gate (``gated`` from the record, else inferred from
    the gate list), significantly worse ones first."""
    if record.compare is None:
        return []
    tested = {(g.metric, g.slice) for g in record.compare.gates}
    rows = [
        MetricRow(
            name=m.name,
            baseline=m.baseline,
            candidate=m.candidate,
            delta=m.delta,
            ci_low=m.ci_low,
            ci_high=m.ci_high,
            p_value=m.p_value,
            adjusted_p_value=m.adjusted_p_value,
            n=m.n,
            # a record without ``gated`` predates the check: whether it is worse is unknown
            worse=m.worse if m.gated is not None else None,
        )
        for m in record.compare.metrics
        if m.slice is None
        and not m.name.startswith(LATENCY_PREFIX)
        and not (m.gated if m.gated is not None else (m.name, m.slice) in tested)
    ]
    return sorted(rows, key=lambda r: r.worse is not True)


@dataclass
class ReportView:
    """Everything the templates need, already ordered and split into sections."""

    record: EvaluationRecord
    title: str
    verdict: Verdict
    gates: list[GateRow] = field(default_factory=list)
    latency: list[GateRow] = field(default_factory=list)
    slices_flagged: list[GateRow] = field(default_factory=list)
    slices_passed: int = 0
    slices_below_min: int = 0
    ungated: list[MetricRow] = field(default_factory=list)
    drift_flagged: list[Any] = field(default_factory=list)
    drift_other: list[Any] = field(default_factory=list)
    quality_flagged: list[Any] = field(default_factory=list)
    quality_other: list[Any] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    approvals: list[Any] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)  # ml_ci.lineage.LineageChange
    fairness: list[FairnessView] = field(default_factory=list)

    @property
    def fairness_in_family(self) -> int:
        """Fairness gates that joined the Holm family (0 without a correction)."""
        compare = self.record.compare
        if compare is None or compare.correction == "none":
            return 0
        return sum(
            1 for g in compare.gates if g.groups and not g.undefined and g.p_value is not None
        )

    @property
    def has_compare(self) -> bool:
        return self.record.compare is not None

    @property
    def worse(self) -> list[MetricRow]:
        """Ungated metrics that got significantly worse (a warning, never a verdict)."""
        return [r for r in self.ungated if r.worse]

    @property
    def unchanged(self) -> bool:
        return bool(self.record.compare is not None and self.record.compare.unchanged)

    @property
    def slices_deciding(self) -> list[GateRow]:
        return [r for r in self.slices_flagged if not (r.below_min or r.undefined)]


def build_view(record: EvaluationRecord, title: str | None = None) -> ReportView:
    """Split the record into the report's sections (absent sections stay empty/None)."""
    rows = gate_rows(record)
    overall = [r for r in rows if r.slice is None and not r.metric.startswith(LATENCY_PREFIX)]
    latency = [r for r in rows if r.metric.startswith(LATENCY_PREFIX)]
    sliced = [r for r in rows if r.slice is not None and not r.metric.startswith(LATENCY_PREFIX)]
    view = ReportView(
        record=record,
        title=title or f"ml-ci: {record.model or 'model'}",
        verdict=overall_verdict(record),
        gates=overall,
        latency=latency,
        slices_flagged=[r for r in sliced if r.verdict != "pass"],
        slices_passed=sum(r.verdict == "pass" for r in sliced),
        slices_below_min=sum(r.below_min and r.verdict != "pass" for r in sliced),
        ungated=ungated_rows(record),
        fairness=fairness_views(record.compare),
    )
    if record.drift is not None:
        columns = sorted(record.drift.columns, key=lambda c: (not c.drifted, c.column))
        view.drift_flagged = [c for c in columns if c.drifted]
        view.drift_other = [c for c in columns if not c.drifted]
        order = {"fail": 0, "warn": 1, "pass": 2}
        quality = sorted(record.drift.quality, key=lambda q: order[q.verdict])
        view.quality_flagged = [q for q in quality if q.verdict != "pass"]
        view.quality_other = [q for q in quality if q.verdict == "pass"]
    if record.lineage is not None:
        from ml_ci.lineage import lineage_changes

        view.changes = lineage_changes(record.lineage)
    links = dict(record.links)
    if record.repo.run_url and "run" not in links:
        links = {"run": record.repo.run_url, **links}
    view.links = links
    if record.governance is not None:
        view.approvals = [
            d for d in record.governance.decisions if d.action == "approve" and d.counted
        ]
    return view
