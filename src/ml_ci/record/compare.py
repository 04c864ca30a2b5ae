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
    unchanged: bool | None = Field(
        None,
        description="The candidate's predictions (y_pred and scores) equal the baseline's on "
        "every row: non-inferiority and absolute gates pass as unchanged, superiority gates "
        "do not pass.",
    )
