"""Config of approvals."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ml_ci.config.base import Section
from ml_ci.config.durations import parse_duration


class RetireAfter(Section):
    """When ``ml-ci registry show`` reports a version as due for retirement."""

    age: str | None = Field(None, description="Registered longer ago than this (e.g. 180d).")
    superseded: str | None = Field(
        None, description="Another version has held production for this long (e.g. 30d)."
    )

    @field_validator("age", "superseded")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class GovernanceConfig(Section):
    approvers: list[str] = Field(default_factory=list, description="GitHub users who may approve.")
    teams: list[str] = Field(
        default_factory=list, description="Teams whose members may approve, as org/team."
    )
    required_approvals: int = Field(1, ge=0, description="Approvals needed.")
    min_permission: Literal["write", "maintain", "admin"] = Field(
        "write",
        description="Least repository permission an approver needs, listed or via a team "
        "(asked from the API; a custom role counts as none).",
    )
    self_approval: bool = Field(False, description="May the pull request's author approve it?")
    require: Literal["always", "flagged", "never"] = Field(
        "always",
        description="always: every release needs approval; flagged: only when drift is "
        "significant or an inconclusive gate was let pass; never.",
    )
    retire_after: RetireAfter = Field(default_factory=RetireAfter)
    model_card: str | None = Field(
        None, description="Markdown file with the model card's intended use and limitations."
    )
    catalog: str | None = Field(
        None,
        description="Approved-source catalog (YAML, repository path); read from the base "
        "branch in the pull-request check.",
    )
