"""Config of ``ml-ci drift``: methods, thresholds, quality checks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.config.base import Section

DriftMethod = Literal["ks", "wasserstein", "chi2", "jensenshannon", "psi", "proportion"]


class DriftThresholds(Section):
    retrain: float = Field(0.1, gt=0, description="Effect size worth retraining for.")
    significant: float = Field(0.25, gt=0, description="Effect size that needs a person.")


class DriftConfig(Section):
    reference: str | None = Field(None, description="Reference table (path or path@ref).")
    current: str | None = Field(None, description="Current table (path or path@ref).")
    columns: list[str] | None = Field(None, description="Columns to check; default: all common.")
    exclude: list[str] = Field(default_factory=list, description="Columns to skip.")
    id_column: str | None = Field(None, description="Id column (checked for duplicates).")
    methods: dict[str, DriftMethod] = Field(
        default_factory=dict, description="Per-column method override."
    )
    thresholds: DriftThresholds = Field(default_factory=DriftThresholds)  # type: ignore[arg-type]
    psi_bins: int = Field(10, ge=2, le=100, description="Quantile bins for PSI.")
    share: float = Field(
        0.5, gt=0, le=1, description="Share of drifted columns that makes the dataset drifted."
    )
    max_missing_share: float = Field(0.1, ge=0, le=1, description="Quality: missing-value share.")
