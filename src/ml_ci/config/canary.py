"""Config of ``ml-ci canary``: looks, durations, traffic share and gates on live traffic."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ml_ci.config.base import Section
from ml_ci.config.durations import parse_duration

# metric -> (needs outcomes, higher is worse)
CANARY_METRICS: dict[str, tuple[bool, bool]] = {
    "error_rate": (False, True),
    "latency_p50_ms": (False, True),
    "latency_p95_ms": (False, True),
    "latency_p99_ms": (False, True),
    "accuracy": (True, False),
    "precision": (True, False),
    "recall": (True, False),
    "brier": (True, True),
}


class CanaryGate(Section):
    metric: str = Field(
        ..., description="error_rate, latency_p50/p95/p99_ms, accuracy, precision, recall, brier."
    )
    rule: Literal["non_inferior", "absolute"] = Field(
        "non_inferior",
        description="non_inferior: canary no worse than production by more than margin; "
        "absolute: the canary's own value within min/max.",
    )
    margin: float = Field(
        0.0, ge=0, description="Non-inferiority margin (metric units, or a fraction)."
    )
    relative: bool = Field(False, description="Margin is a fraction of production's value.")
    rollback_margin: float | None = Field(
        None,
        ge=0,
        description="Roll back only when worse by more than this (default: by any amount).",
    )
    min: float | None = Field(None, description="absolute rule: lowest allowed value.")
    max: float | None = Field(None, description="absolute rule: highest allowed value.")

    @model_validator(mode="after")
    def _check(self) -> CanaryGate:
        if self.metric not in CANARY_METRICS:
            raise ValueError(
                f"metric {self.metric!r} cannot gate a canary; allowed: {', '.join(CANARY_METRICS)}"
            )
        if self.rule == "absolute" and self.min is None and self.max is None:
            raise ValueError("rule 'absolute' needs 'min' or 'max'")
        if self.rollback_margin is not None and self.rollback_margin < self.margin:
            raise ValueError(
                f"rollback_margin {self.rollback_margin} is below margin {self.margin}"
            )
        return self


def _default_gates() -> list[CanaryGate]:
    return [
        CanaryGate(metric="error_rate", margin=0.002),
        CanaryGate(metric="latency_p95_ms", margin=0.1, relative=True),
    ]


class CanaryConfig(Section):
    interval: str = Field("10m", description="Time between looks (90s, 10m, 1h, 23h50m, 2d).")
    min_duration: str = Field("1h", description="No promotion before this much canary time.")
    max_duration: str = Field("24h", description="Then apply on_timeout.")
    min_requests: int = Field(1000, ge=1, description="Requests per version before any verdict.")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Error rate across all gates and looks.")
    on_timeout: Literal["rollback", "promote", "hold"] = Field(
        "rollback", description="Verdict at max_duration when nothing was decided."
    )
    traffic: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="The canary's expected share of requests (sample-ratio check).",
    )
    srm_alpha: float = Field(
        0.001, gt=0, lt=0.5, description="Level of the (anytime-valid) sample-ratio check."
    )
    gates: list[CanaryGate] = Field(default_factory=_default_gates)

    @field_validator("interval", "min_duration", "max_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> CanaryConfig:
        if parse_duration(self.max_duration) < parse_duration(self.interval):
            raise ValueError("max_duration is shorter than interval")
        if not self.gates:
            raise ValueError("gates: give at least one gate")
        return self

    def seconds(self, key: Literal["interval", "min_duration", "max_duration"]) -> int:
        return parse_duration(getattr(self, key))
