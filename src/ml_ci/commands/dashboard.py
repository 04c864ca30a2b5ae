"""``ml-ci dashboard``: a static, self-contained HTML page of the models and their objectives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("dashboard")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("site"),
    show_default=True,
    help="Folder to write index.html into.",
)
@click.option(
    "--logs", "logs", default=None, help="Serving logs: file, glob or folder (overrides logs.path)."
)
@click.option(
    "--version", "version", default=None, help="Version (default: the registry's production)."
)
@click.option("--now", default=None, help="Show the window ending at this time (UTC).")
@click.option(
    "--bucket", default="1h", show_default=True, help="Time step of the objective charts."
)
@click.option(
    "--repo",
    envvar="GITHUB_REPOSITORY",
    default=None,
    help="OWNER/NAME: list its open incidents (needs GITHUB_TOKEN).",
)
@config_option
@json_option
def command(
    output: Path,
    logs: str | None,
    version: str | None,
    now: str | None,
    bucket: str,
    repo: str | None,
    config_path: Path | None,
    json_mode: bool,
) -> None:
    """Write OUTPUT/index.html: versions and stages over time, each objective's value and
    budget burn over the monitor window, stored canary/monitor/drift results, open incidents.
    With GITHUB_STEP_SUMMARY set, also append a summary table to the job summary."""
    import os
    import time

    from ml_ci.canary.engine import parse_time
    from ml_ci.commands._common import optional_config
    from ml_ci.dashboard.engine import DashboardSettings, execute
    from ml_ci.github.context import from_env
    from ml_ci.gitutil import repo_root

    console = Console(json_mode=json_mode)
    config, found = optional_config(config_path, console.progress)
    base = found.parent if found is not None else Path.cwd()
    context = from_env()
    client = None
    if repo and os.environ.get("GITHUB_TOKEN"):
        from ml_ci.github.client import cli_client

        client = cli_client()
    settings = DashboardSettings(
        config=config,
        base=base,
        root=repo_root(base),
        output=output,
        now=parse_time(now, "--now") if now is not None else time.time(),
        bucket=bucket,
        logs=logs,
        version=version,
        repo=repo,
        client=client,
        server_url=context.server_url,
        clock=time.time(),
    )
    dashboard = execute(settings, progress=console.progress)
    if context.step_summary is not None:
        from ml_ci.dashboard.render import render_summary
        from ml_ci.github.publish import append_summary

        if append_summary(context.step_summary, render_summary(dashboard)):
            dashboard.files.append(str(context.step_summary))
    payload = dashboard.to_json()
    console.result(describe(payload), payload)


def describe(payload: dict[str, Any]) -> str:
    lines = [f"wrote {', '.join(payload['files'])}"]
    lines.append(f"  models: {', '.join(payload['models']) or 'none'}")
    for item in payload["objectives"]:
        lines.append(f"  {item['metric']:16} {item['alert']}")
    lines += [f"  note: {note}" for note in payload["notes"]]
    return "\n".join(lines)
