"""Config of ``ml-ci report`` and ``ml-ci publish``."""

from __future__ import annotations

from pydantic import Field

from ml_ci.config.base import Section


class ReportConfig(Section):
    template_dir: str | None = Field(
        None, description="Folder of jinja2 templates overriding the bundled ones."
    )
    title: str | None = Field(None, description="Report title; default: 'ml-ci: <model>'.")
    key: str = Field("default", description="Report key: one sticky comment per key.")
