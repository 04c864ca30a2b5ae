"""The ``governance`` section: every approval decision, with who, when, SHA and how."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.record.base import RecordModel


class Decision(RecordModel):
    actor: str
    action: Literal["approve", "reject"]
    sha: str = Field(..., description="Commit the decision was given for ('' when unnamed).")
    at: str = Field(..., description="ISO 8601 time of the review or comment.")
    via: Literal["review", "comment", "cli"] = Field(
        ..., description="cli: given offline with --approved-by (checked against the config only)."
    )
    counted: bool
    reason: str | None = Field(None, description="Why it did not count, or the reject reason.")


class GovernanceSection(RecordModel):
    required: bool
    required_approvals: int
    approvers: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    satisfied: bool
    head_sha: str | None = None
    approved_by: list[str] = Field(default_factory=list, description="Standing approvals.")
    rejected_by: list[str] = Field(default_factory=list, description="Standing rejections.")
    checked_at: str | None = Field(None, description="When ml-ci evaluated the approvals.")
    approve_command: str | None = Field(
        None,
        description="The exact comment line that approves head_sha (the full SHA: a prefix "
        "can be brute-forced onto another commit), to show for copying.",
    )
