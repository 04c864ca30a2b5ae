"""The ``drift`` section (contract: issue 4). Reports and governance read these names.

Contract names: ``columns`` [{column, method, value, threshold, drifted}], ``quality``
[{check, column, rows, verdict}], ``share_drifted``, ``verdict``. Every other field is extra.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.record.base import RecordModel

Level = Literal["pass", "retrain", "significant"]


class ColumnDrift(RecordModel):
    column: str
    method: str
    value: float | None = Field(None, description="The effect size the verdict used.")
    threshold: float = Field(description="The retrain threshold of the method.")
    drifted: bool = Field(description="value >= threshold (and p_value < alpha when there is one).")
    p_value: float | None = Field(None, description="p-value of the method's test, if any.")
    adjusted_p_value: float | None = Field(
        None,
        description="p_value after the correction for testing many columns (drift.correction).",
    )
    kind: Literal["numeric", "categorical", "binary"] | None = None
    level: Level = Field("pass", description="pass | retrain | significant for this column.")
    significant_threshold: float | None = Field(
        None, description="The significant threshold of the method."
    )
    statistics: dict[str, float | None] = Field(
        default_factory=dict,
        description="Other measures of the same column (ks, psi, ...); null where infinite.",
    )


class QualityFinding(RecordModel):
    check: str
    column: str | None = None
    rows: int = 0
    verdict: Literal["pass", "warn", "fail"]
    detail: str | None = None
    p_value: float | None = Field(
        None, description="Checks that allow for chance (out_of_range, unseen_categories)."
    )
    adjusted_p_value: float | None = Field(
        None, description="p_value after the correction for many tests (drift.correction)."
    )


class DriftSection(RecordModel):
    columns: list[ColumnDrift] = Field(default_factory=list)
    quality: list[QualityFinding] = Field(default_factory=list)
    share_drifted: float
    verdict: Level
    reference: str | None = Field(None, description="Where the reference table came from.")
    current: str | None = Field(None, description="Where the current table came from.")
    rows_reference: int | None = None
    rows_current: int | None = None
    alpha: float | None = Field(None, description="p-value level used with the effect sizes.")
    correction: Literal["holm", "none"] | None = Field(
        None, description="Multiple-testing correction across the table's tests."
    )
