"""The ``compare`` section (contract: issue 3). Reports, governance and release read these names."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.record.base import RecordModel

GateVerdict = Literal["pass", "fail", "inconclusive"]


class MetricResult(RecordModel):
    name: str
    baseline: float | None
    candidate: float | None
    delta: float | None = Field(None, description="candidate - baseline")
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = Field(None, description="Two-sided test of no difference.")
    method: str
    n: int
    slice: str | None = Field(None, description="column=value, or null for all rows.")
    gated: bool | None = Field(
        None, description="A gate applies to this metric on these rows (null: unknown, old record)."
    )
    adjusted_p_value: float | None = Field(
        None,
        description="Ungated metrics on all rows: p_value Holm-adjusted across them "
        "(compare.correction); null for gated metrics (their gates carry their own).",
    )
    worse: bool = Field(
        False,
        description="Ungated metric significantly worse than the baseline (two-sided, "
        "adjusted_p_value < alpha): a warning, it never changes the exit code.",
    )


class GateResult(RecordModel):
    metric: str
    rule: Literal["non_inferior", "superior", "absolute"]
    margin: float
    slice: str | None = None
    verdict: GateVerdict
    p_value: float | None = Field(None, description="One-sided, against the margin.")
    adjusted_p_value: float | None = None
    reason: str | None = None
    threshold: float | None = Field(None, description="What the bound must clear (metric units).")
    bound: float | None = Field(None, description="One-sided (1 - alpha) confidence bound.")
    mde: float | None = Field(
        None, description="Minimum detectable effect (80% power) at this sample size."
    )
    underpowered: bool | None = Field(
        None,
        description="non_inferior margin below the minimum detectable effect (mde): a "
        "candidate as good as the baseline would mostly be inconclusive at this sample size.",
    )
    relative: bool = Field(False, description="The configured margin was relative.")
    undefined: bool = Field(
        False,
        description="The metric is undefined on this slice (e.g. ROC AUC with one class): "
        "reported, left out of the Holm family and of the verdict.",
    )
    min: float | None = Field(None, description="absolute rule: lowest allowed value.")
    max: float | None = Field(None, description="absolute rule: highest allowed value.")
    groups: str | None = Field(
        None,
        description="Fairness gates: the group column (or columns joined by '&' for an "
        "intersection) the gap is taken over; details in CompareSection.fairness.",
    )


class GroupRate(RecordModel):
    """One group's rate for both models (the report's per-group table)."""

    group: str = Field(..., description="The group's value (column values joined by '&').")
    n: int = Field(..., description="Rows in the group.")
    gated: bool = Field(..., description="At least fairness.min_size rows: part of the gap.")
    rate: str = Field(..., description="selection_rate, tpr, fpr, recall, ...")
    baseline: float | None
    candidate: float | None


class FairnessResult(RecordModel):
    """A fairness gate on one grouping: both models' gaps and the bound on its change."""

    metric: str = Field(..., description="demographic_parity_difference, gap:recall, ...")
    groups: str = Field(..., description="Group column, or columns joined by '&'.")
    rule: Literal["non_inferior", "absolute"] = Field(
        "non_inferior",
        description="non_inferior: the change of the gap below margin; absolute: the "
        "candidate's gap below max.",
    )
    margin: float
    max: float | None = Field(None, description="absolute rule: the cap on the candidate's gap.")
    verdict: GateVerdict
    baseline: float | None = Field(None, description="Baseline's gap over the gated groups.")
    candidate: float | None = Field(None, description="Candidate's gap over the gated groups.")
    delta: float | None = Field(None, description="candidate gap - baseline gap")
    upper: float | None = Field(
        None,
        description="One-sided (1 - alpha) simultaneous upper bound of delta (absolute rule: "
        "of the candidate's gap).",
    )
    lower: float | None = Field(
        None,
        description="One-sided (1 - alpha) simultaneous lower bound of delta (absolute rule: "
        "of the candidate's gap).",
    )
    p_value: float | None = Field(
        None, description="One-sided, H0: delta >= margin (absolute: candidate gap >= max)."
    )
    adjusted_p_value: float | None = Field(None, description="Holm across every gate.")
    gated_groups: list[str] = Field(
        default_factory=list, description="Groups with at least fairness.min_size rows."
    )
    reason: str | None = Field(None, description="Why there is no bound, when there is none.")
    by_group: list[GroupRate] = Field(default_factory=list)


class Curve(RecordModel):
    """A model's ROC or precision-recall curve (binary tasks), thinned to at most 200 points
    of the full curve: ROC x = false-positive rate, y = true-positive rate; PR x = recall,
    y = precision."""

    kind: Literal["roc", "pr"]
    model: Literal["baseline", "candidate"]
    x: list[float]
    y: list[float]
    area: float | None = Field(None, description="ROC AUC, or average precision for PR.")


class CompareSection(RecordModel):
    metrics: list[MetricResult] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    verdict: Literal["pass", "fail", "inconclusive"]
    alpha: float | None = Field(None, description="Two-sided level of the intervals.")
    correction: Literal["holm", "none"] | None = None
    inconclusive: Literal["fail", "pass", "warn"] | None = Field(
        None, description="What an inconclusive gate does to the exit code."
    )
    resamples: int | None = Field(None, description="Bootstrap replicates.")
    seed: int | None = None
    n: int | None = Field(None, description="Rows compared (after the join).")
    curves: list[Curve] = Field(
        default_factory=list, description="ROC and PR curves of both models (binary tasks)."
    )
    fairness: list[FairnessResult] = Field(
        default_factory=list,
        description="Fairness gates (binary tasks): gaps per grouping; their gates are in "
        "``gates`` too and joined the Holm family.",
    )
    unchanged: bool | None = Field(
        None,
        description="The candidate's predictions (y_pred and scores) equal the baseline's on "
        "every row: non-inferiority and absolute gates pass as unchanged, superiority gates "
        "do not pass.",
    )
