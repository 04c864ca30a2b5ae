"""Config of ``ml-ci report`` and ``ml-ci publish``."""

from __future__ import annotations

from pydantic import Field

from ml_ci.config.base import Section


class ReportConfig(Section):
    template_dir: str | None = Field(
        None,
        description="Folder of jinja2 templates overriding the bundled ones (report.md.j2, "
        "report.html.j2, summary.md.j2; extend 'ml-ci/<name>' to replace single blocks). "
        "Relative to ml-ci.yaml.",
    )
    title: str | None = Field(None, description="Report title; default: 'ml-ci: <model>'.")
    key: str = Field(
        "default",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Report key: one sticky comment per pull request and key.",
    )
    login: str | None = Field(
        None,
        description="Login the token comments as, when GET /user is not allowed: default "
        "github-actions[bot] (GITHUB_TOKEN); '<app-slug>[bot]' for another GitHub App's token.",
    )
    status_context: str = Field(
        "ml-ci/gates", description="Context (name) of the commit status publish sets."
    )
