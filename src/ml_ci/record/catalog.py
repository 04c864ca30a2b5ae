"""The ``catalog`` section: the approved-source check of the pull request."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.record.base import RecordModel


class CatalogSection(RecordModel):
    verdict: Literal["pass", "fail", "none"] = Field(
        ..., description="none: no catalog is configured on the base branch."
    )
    origin: str | None = Field(None, description="Where the catalog was read: ref:path.")
    violations: list[str] = Field(default_factory=list, description="One line each.")
    changed: bool = Field(
        False, description="The pull request changes the catalog (needs a governance approval)."
    )
