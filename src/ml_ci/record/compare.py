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


class GateResult(RecordModel):
    metric: str
    rule: Literal["non_inferior", "superior", "absolute"]
    margin: float
    slice: str | None = None
    verdict: GateVerdict
    p_value: float | None = Field(None, description="One-sided, against the margin.")
    adjusted_p_value: float | None = None
    reason: str | None = None


class CompareSection(RecordModel):
    metrics: list[MetricResult] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    verdict: Literal["pass", "fail", "inconclusive"]
