"""The ``drift`` section (contract: issue 4). Reports and governance read these names."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.record.base import RecordModel


class ColumnDrift(RecordModel):
    column: str
    method: str
    value: float | None = Field(None, description="The effect size the verdict used.")
    threshold: float
    drifted: bool
    p_value: float | None = None


class QualityFinding(RecordModel):
    check: str
    column: str | None = None
    rows: int = 0
    verdict: Literal["pass", "warn", "fail"]
    detail: str | None = None


class DriftSection(RecordModel):
    columns: list[ColumnDrift] = Field(default_factory=list)
    quality: list[QualityFinding] = Field(default_factory=list)
    share_drifted: float
    verdict: Literal["pass", "retrain", "significant"]
