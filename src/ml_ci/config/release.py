"""Config of ``ml-ci release``, ``promote`` and ``rollback``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.config.base import Section


class ReleaseConfig(Section):
    bump: Literal["major", "minor", "patch"] = Field(
        "minor", description="Default version bump; a ml-ci:major|minor|patch label overrides."
    )
    stage: str = Field("canary", description="Stage assigned on merge.")
    canary_traffic: float = Field(0.1, gt=0, le=1, description="Canary traffic share.")
    promote_requires_approval: bool = Field(
        False, description="promote/rollback check governance too."
    )
    trust_record: bool = Field(
        False,
        description="RISK: when the release cannot recompute the gates and drift itself (no "
        "predict.command, no DVC data), release on the pull request's own record, which its "
        "author controls. Read from the merge's first parent, so a pull request cannot set it "
        "for itself.",
    )
