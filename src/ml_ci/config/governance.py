"""Config of approvals."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.config.base import Section


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
    catalog: str | None = Field(
        None,
        description="Approved-source catalog (YAML, repository path); read from the base "
        "branch in the pull-request check.",
    )
