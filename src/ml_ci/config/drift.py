"""Config of ``ml-ci drift``: methods, thresholds, quality checks.

Defaults and the reason for each are in docs/drift.md. Thresholds apply to the effect size each
method reports (see :mod:`ml_ci.drift.methods`); because those effect sizes live on different
scales, every method has its own default pair (``METHOD_THRESHOLDS``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ml_ci.config.base import Section

DriftMethod = Literal["ks", "wasserstein", "chi2", "jensenshannon", "psi", "proportion"]


class DriftThresholds(Section):
    """Two effect-size levels: ``retrain`` (retrain automatically) < ``significant`` (a person)."""

    retrain: float = Field(0.1, gt=0, description="Effect size worth retraining for.")
    significant: float = Field(0.25, gt=0, description="Effect size that needs a person.")

    @model_validator(mode="after")
    def _ordered(self) -> DriftThresholds:
        if self.significant < self.retrain:
            raise ValueError(
                f"significant ({self.significant}) must be >= retrain ({self.retrain})"
            )
        return self


# Default thresholds per method, on each method's own effect-size scale (reasons: docs/drift.md).
METHOD_THRESHOLDS: dict[str, tuple[float, float]] = {
    "wasserstein": (0.1, 0.25),  # in reference standard deviations
    "ks": (0.05, 0.1),  # the same normal location shifts as above, as a KS distance
    "psi": (0.1, 0.25),  # the credit-scoring rule of thumb
    "jensenshannon": (0.05, 0.1),  # base 2, in [0, 1]
    "proportion": (0.1, 0.25),  # Cohen's h
    "chi2": (0.1, 0.3),  # Cramér's V: Cohen's small / medium w
}


class DriftConfig(Section):
    """The ``drift`` section of ``ml-ci.yaml``."""

    reference: str | None = Field(None, description="Reference table (path or path@ref).")
    current: str | None = Field(None, description="Current table (path or path@ref).")
    columns: list[str] | None = Field(None, description="Columns to check; default: all common.")
    exclude: list[str] = Field(default_factory=list, description="Columns to skip.")
    id_column: str | None = Field(
        None, description="Id column: checked for duplicates, never for drift."
    )
    methods: dict[str, DriftMethod] = Field(
        default_factory=dict, description="Per-column method override."
    )
    thresholds: DriftThresholds = Field(
        default_factory=DriftThresholds,
        description="When set, the thresholds of every method (else each method's default).",
    )
    method_thresholds: dict[DriftMethod, DriftThresholds] = Field(
        default_factory=dict, description="Thresholds of one method; wins over `thresholds`."
    )
    alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="A column drifts only if its test's p-value is below alpha too.",
    )
    correction: Literal["holm", "none"] = Field(
        "holm",
        description="Multiple-testing correction of the p-values of all the table's tests "
        "(every column's test, out_of_range, unseen_categories) before they are compared with "
        "alpha: with 50 columns, one would pass alpha by chance in most runs.",
    )
    psi_bins: int = Field(10, ge=2, le=100, description="Quantile bins of the reference for PSI.")
    categorical_max_unique: int = Field(
        20,
        ge=2,
        description="A numeric column with at most this many distinct values is categorical.",
    )
    max_unique_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A text column whose reference has more distinct values than this share "
        "of its values (and more than categorical_max_unique) looks like an identifier or free "
        "text: it is not compared (check identifier_like warns). Name it in drift.methods to "
        "compare it anyway.",
    )
    share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of drifted columns from which the dataset verdict is retrain "
        "(0: any drifted column).",
    )
    max_missing_share: float = Field(0.1, ge=0, le=1, description="Quality: missing-value share.")
    max_out_of_range_share: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Quality: share of numeric values outside the reference range.",
    )
    max_unseen_share: float = Field(
        0.01, ge=0, le=1, description="Quality: share of rows with categories the reference lacks."
    )

    def thresholds_for(self, method: str) -> DriftThresholds:
        """The thresholds a method uses: method_thresholds, else thresholds if set, else default."""
        if method in self.method_thresholds:
            return self.method_thresholds[method]
        if "thresholds" in self.model_fields_set:
            return self.thresholds
        retrain, significant = METHOD_THRESHOLDS[method]
        return DriftThresholds(retrain=retrain, significant=significant)
