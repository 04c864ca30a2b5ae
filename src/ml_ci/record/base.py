"""Shared base for record sections."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RecordModel(BaseModel):
    """Record parts reject unknown keys: the record is an audit trail, not a scratch pad."""

    model_config = ConfigDict(extra="forbid")
