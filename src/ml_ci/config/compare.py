"""Config of ``ml-ci compare``: statistics, gates, slices, latency."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ml_ci.config.base import Section


class BootstrapConfig(Section):
    resamples: int = Field(2000, ge=200, le=100_000, description="Bootstrap replicates.")
    seed: int = Field(0, ge=0, description="Seed of the shared resampling.")


class CompareConfig(Section):
    alpha: float = Field(
        0.05, gt=0, lt=0.5, description="Two-sided level for intervals; one-sided for gates."
    )
    correction: Literal["holm", "none"] = Field(
        "holm", description="Multiple-testing correction across gated metrics and slices."
    )
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    inconclusive: Literal["fail", "pass", "warn"] = Field(
        "fail", description="What an inconclusive gate does to the verdict."
    )
    max_improvement: float | None = Field(
        None,
        gt=0,
        description="Leakage guard: fail when a metric improves by more than this (absolute).",
    )


#: Fairness metrics (binary tasks, ``fairness.groups``): see :mod:`ml_ci.compare.fairness`.
FAIRNESS_METRICS = ("demographic_parity_difference", "equalized_odds_difference")
#: Per-group metrics whose between-group gap ``gap:<metric>`` (max - min over groups) is gated.
GAP_METRICS = ("accuracy", "precision", "recall", "f1", "selection_rate", "fpr")


def is_fairness_metric(name: str) -> bool:
    return name in FAIRNESS_METRICS or (name.startswith("gap:") and name[4:] in GAP_METRICS)


def fairness_metric_names() -> tuple[str, ...]:
    return FAIRNESS_METRICS + tuple(f"gap:{m}" for m in GAP_METRICS)


class FairnessConfig(Section):
    groups: list[str | list[str]] = Field(
        default_factory=list,
        description="Group columns of the predictions tables, each gated on its own; a nested "
        "list (e.g. [[sex, age_band]]) gates the intersection of its columns.",
    )
    min_size: int = Field(
        100, ge=1, description="Groups with fewer rows are reported but not gated."
    )

    @model_validator(mode="after")
    def _no_empty_intersection(self) -> FairnessConfig:
        for index, entry in enumerate(self.groups):
            if isinstance(entry, list) and not entry:
                raise ValueError(f"groups[{index}]: an intersection needs at least one column")
        return self

    def groupings(self) -> list[tuple[str, list[str]]]:
        """(label, columns) per entry: ``sex`` or ``sex&age_band`` for an intersection."""
        out = []
        for entry in self.groups:
            columns = [entry] if isinstance(entry, str) else list(entry)
            out.append(("&".join(columns), columns))
        return out

    def columns(self) -> list[str]:
        """Every column any grouping reads, once."""
        return list(dict.fromkeys(c for _, columns in self.groupings() for c in columns))


class Gate(Section):
    metric: str = Field(..., description="Metric name, e.g. roc_auc, accuracy, log_loss, mae.")
    rule: Literal["non_inferior", "superior", "absolute"] = Field(
        "non_inferior",
        description="non_inferior: candidate >= baseline - margin; superior: candidate > "
        "baseline + margin; absolute: min <= candidate <= max.",
    )
    margin: float = Field(0.0, ge=0, description="Margin in metric units (or a fraction).")
    relative: bool = Field(
        False, description="Margin is a fraction of |baseline| instead of metric units."
    )
    min: float | None = Field(None, description="absolute rule: lowest allowed value.")
    max: float | None = Field(None, description="absolute rule: highest allowed value.")
    slices: bool = Field(True, description="Also apply this gate to each slice.")

    @model_validator(mode="after")
    def _absolute_needs_bounds(self) -> Gate:
        if self.rule == "absolute" and self.min is None and self.max is None:
            raise ValueError("rule 'absolute' needs 'min' or 'max'")
        if self.metric.startswith("latency_") and self.rule != "absolute":
            raise ValueError(
                f"{self.metric}: latency gates use rule 'absolute' with 'max' (e.g. max: 200)"
            )
        if is_fairness_metric(self.metric):
            if self.rule == "superior" or (self.rule == "absolute" and self.min is not None):
                raise ValueError(
                    f"{self.metric}: fairness gates use rule 'non_inferior' (the candidate "
                    "does not widen the gap by more than margin) or 'absolute' with 'max' "
                    "(the candidate's gap at most max)"
                )
            if self.relative:
                raise ValueError(f"{self.metric}: fairness gates take a margin in gap units")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class SlicesConfig(Section):
    columns: list[str] = Field(default_factory=list, description="Slice columns.")
    min_size: int = Field(
        200, ge=1, description="Slices smaller than this are reported but cannot fail a gate."
    )


class LatencyConfig(Section):
    column: str | None = Field(None, description="Per-row latency column in ms (else timed).")
    repeats: int = Field(3, ge=1, le=50, description="Timed runs of the predict command.")
