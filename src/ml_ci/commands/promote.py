"""``ml-ci promote``: assign a stage (e.g. production) to a registered model version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml_ci.commands._common import config_option
from ml_ci.commands.release import load, tag_options
from ml_ci.console import Console, json_option


@click.command("promote")
@config_option
@click.option("--model", default=None, help="Model name (default: model.name in ml-ci.yaml).")
@click.option("--to", "stage", required=True, help="Stage to assign, e.g. production.")
@click.option("--version", default=None, help="Version (default: the release stage's holder).")
@tag_options
@json_option
def command(**options: Any) -> None:
    """Write {model}#{stage}#{n} at the version's commit and push it (the latest assignment
    wins, as in GTO). With release.promote_requires_approval, governance is checked first."""
    assign("promote", **options)


def assign(
    action: str,
    *,
    config_path: Path | None,
    model: str | None,
    stage: str,
    version: str | None,
    remote: str,
    push: bool,
    approved_by: tuple[str, ...],
    offline: bool,
    repo: str | None,
    json_mode: bool,
) -> None:
    """Shared by ``promote`` and ``rollback``: build the settings, run ``action``, print."""
    from ml_ci.commands.release import assign_client
    from ml_ci.release import promote as engine

    console = Console(json_mode=json_mode)
    config, root = load(config_path)
    settings = engine.AssignSettings(
        root=root,
        config=config,
        model=model or config.model.name,
        stage=stage,
        version=version,
        remote=remote,
        push=push,
        offline=offline or not repo,
        repo=repo,
        approved_by=approved_by,
    )
    run = engine.promote if action == "promote" else engine.rollback
    result = run(settings, assign_client(config, settings.offline), console.progress)
    console.result(describe(result.to_json()), result.to_json())


def describe(result: dict[str, object]) -> str:
    """One line for promote/rollback results."""
    if not result["created"]:
        return f"{result['model']} {result['version']} already holds {result['stage']}"
    return (
        f"{result['model']} {result['stage']}: {result['previous'] or '-'} -> "
        f"{result['version']} ({', '.join(result['tags'])})"  # type: ignore[arg-type]
    )
