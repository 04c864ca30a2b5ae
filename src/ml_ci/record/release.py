"""The ``release`` section: what was tagged and published."""

from __future__ import annotations

from pydantic import Field

from ml_ci.record.base import RecordModel


class ReleaseSection(RecordModel):
    model: str
    version: str
    stage: str
    tags: list[str] = Field(default_factory=list)
    commit: str
    artifact_hash: str | None = None
    release_url: str | None = None
