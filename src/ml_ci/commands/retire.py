"""``ml-ci retire``: deregister a model version (GTO's ``deprecate``), with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("retire")
@config_option
@click.argument("version")
@click.option("--reason", required=True, help="Why (kept in the tag message).")
@click.option("--model", default=None, help="Model name (default: model.name in ml-ci.yaml).")
@click.option("--force", is_flag=True, help="Unassign the stages the version holds first.")
@click.option("--remote", default="origin", show_default=True, help="Git remote.")
@click.option("--push/--no-push", default=True, show_default=True, help="Push the tags.")
@json_option
def command(
    config_path: Path | None,
    version: str,
    reason: str,
    model: str | None,
    force: bool,
    remote: str,
    push: bool,
    json_mode: bool,
) -> None:
    """Write {model}@{version}! at the version's commit (gto show then lists it as
    deregistered). Refused while the version holds a stage, unless --force."""
    from ml_ci.commands.release import load
    from ml_ci.release.retire import retire

    console = Console(json_mode=json_mode)
    config, root = load(config_path)
    result = retire(
        root,
        model or config.model.name,
        version,
        reason=reason,
        force=force,
        remote=remote,
        push=push,
        progress=console.progress,
    )
    payload: dict[str, Any] = result.to_json()
    if result.tags:
        text = f"{result.model} {result.version} retired ({', '.join(result.tags)})"
    else:
        text = f"{result.model} {result.version} was already retired"
    text = "\n".join([text, *result.fallback_lines()])
    console.result(text, payload)
