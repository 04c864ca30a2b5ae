"""Config of ``ml-ci monitor``: objectives of the production version over a rolling window."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ml_ci.config.base import Section
from ml_ci.config.durations import parse_duration

LATENCY_QUANTILES = {"latency_p50_ms": 0.50, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}
REQUEST_METRICS = ("error_rate", *LATENCY_QUANTILES)
QUALITY_METRICS = ("accuracy",)


class Objective(Section):
    """One objective. Request metrics take ``max`` (latency: ms; error_rate: a share); quality
    metrics take ``min`` or ``margin`` (below the point estimate the release record measured)."""

    metric: str = Field(..., description="error_rate, latency_p50/p95/p99_ms, or accuracy.")
    max: float | None = Field(None, description="Request metrics: the highest allowed value.")
    min: float | None = Field(None, description="Quality: the lowest allowed value.")
    margin: float | None = Field(
        None, gt=0, description="Quality: allowed drop below the release record's estimate."
    )
    page_below: float | None = Field(
        None, description="Quality: page (not only ticket) below this value."
    )

    @model_validator(mode="after")
    def _check(self) -> Objective:
        if self.metric in REQUEST_METRICS:
            if self.max is None or self.min is not None or self.margin is not None:
                raise ValueError(f"{self.metric}: give max (and neither min nor margin)")
            if self.metric == "error_rate" and not 0 < self.max < 1:
                raise ValueError("error_rate: max must be a share between 0 and 1")
            if self.metric != "error_rate" and self.max <= 0:
                raise ValueError(f"{self.metric}: max is a latency in ms, above 0")
            if self.page_below is not None:
                raise ValueError(f"{self.metric}: page_below is for quality objectives")
        elif self.metric in QUALITY_METRICS:
            if (self.min is None) == (self.margin is None) or self.max is not None:
                raise ValueError(f"{self.metric}: give exactly one of min or margin")
            if self.page_below is not None and self.min is not None and self.page_below >= self.min:
                raise ValueError(f"{self.metric}: page_below must be below min")
        else:
            allowed = ", ".join((*REQUEST_METRICS, *QUALITY_METRICS))
            raise ValueError(f"metric {self.metric!r} cannot be an objective; allowed: {allowed}")
        return self

    @property
    def budget(self) -> float:
        """Request metrics: the allowed share of bad requests (p95 <= T: 5 % slower than T)."""
        if self.metric == "error_rate":
            assert self.max is not None
            return self.max
        return 1 - LATENCY_QUANTILES[self.metric]


class PrometheusNames(Section):
    """What the serving side exports, for ``--export-rules``."""

    requests: str = Field("ml_requests_total", description="Counter of requests served.")
    errors: str = Field("ml_request_errors_total", description="Counter of failed requests.")
    latency: str = Field(
        "ml_request_latency_ms", description="Histogram of latency in ms (<name>_bucket{le})."
    )
    selector: str = Field("", description='Extra label matchers, e.g. model="churn".')


class RetrainWorkflow(Section):
    """The workflow ``--apply`` dispatches when the window's input drift is at ``retrain``."""

    workflow: str = Field(
        "retrain.yml",
        pattern=r"^[A-Za-z0-9_.-]+\.ya?ml$",
        description="Workflow file in .github/workflows.",
    )
    ref: str = Field(
        "main", pattern=r"^[A-Za-z0-9_./-]+$", description="Branch or tag to run it on."
    )


class MonitorConfig(Section):
    window: str = Field("30d", description="The objectives' rolling window.")
    recent: str = Field("3d", description="Quality objectives are also judged on this much.")
    bucket: str = Field("5m", description="Time resolution of the windows.")
    min_requests: int = Field(100, ge=1, description="A window with fewer never alerts.")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Level of the quality tests.")
    min_coverage: float = Field(
        0.2, ge=0, le=1, description="Quality: least share of requests with an outcome."
    )
    rollback: Literal["auto", "manual"] = Field(
        "manual", description="auto: --apply rolls production back on a page."
    )
    labels: list[str] = Field(
        default_factory=lambda: ["ml-ci", "incident"], description="Labels of new incidents."
    )
    runbooks: str = Field("docs/runbooks", description="Folder of the runbooks incidents link.")
    incident_bots: list[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}\[bot\]$")]
    ] = Field(
        default_factory=lambda: ["github-actions[bot]"],
        description="Bot logins ml-ci's token writes incidents as (monitor, canary): only their "
        "issues and those of people with a repository role are taken as incidents. Add "
        "'<app-slug>[bot]' when a GitHub App's token runs ml-ci.",
    )
    objectives: list[Objective] = Field(default_factory=list)
    drift_rows: int = Field(
        200_000,
        ge=1_000,
        description="Input drift reads at most this many of the window's requests (an evenly "
        "spaced sample in time order beyond it).",
    )
    drift_window: str | None = Field(
        None,
        description="Input drift compares this last part of the window with the reference "
        "(default: recent; a shift of the last day is a few percent of a 30-day window).",
    )
    retrain: RetrainWorkflow = Field(default_factory=RetrainWorkflow)
    prometheus: PrometheusNames = Field(default_factory=PrometheusNames)

    @field_validator("window", "recent", "bucket", "drift_window")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _fit(self) -> MonitorConfig:
        bucket = parse_duration(self.bucket)
        if 300 % bucket:
            raise ValueError(
                f"bucket {self.bucket} must divide 5m, the burn-rate rules' shortest window "
                "(e.g. 1m or 5m)"
            )
        for key in ("window", "recent"):
            span = parse_duration(getattr(self, key))
            if span % bucket or span < bucket:
                raise ValueError(f"{key} {getattr(self, key)} is not a whole number of buckets")
        for key in ("recent", "drift_window"):
            value = getattr(self, key)
            if value is not None and parse_duration(value) > parse_duration(self.window):
                raise ValueError(f"{key} {value} is longer than window {self.window}")
        return self

    def seconds(self, key: Literal["window", "recent", "bucket", "drift_window"]) -> int:
        """The span of ``key`` in seconds (``drift_window`` unset: ``recent``'s)."""
        value = getattr(self, key)
        return parse_duration(self.recent if value is None else value)
