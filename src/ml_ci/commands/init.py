"""``ml-ci init``: add ml-ci (config, workflows, pre-commit hooks) to a git + DVC repository."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from ml_ci.console import Console, json_option


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--action",
    default="ml-ci/ml-ci@v1",
    show_default=True,
    help="The ml-ci action the workflows use, OWNER/REPO@REF (pin a commit SHA if you like).",
)
@click.option("--drift", is_flag=True, help="Also write the scheduled drift-watch workflow.")
@click.option(
    "--live",
    is_flag=True,
    help="Also write the canary and monitor workflows (they read the serving logs: set logs: "
    "in ml-ci.yaml).",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path("."),
    show_default=True,
    help="A folder inside the repository.",
)
@json_option
def command(force: bool, action: str, drift: bool, live: bool, root: Path, json_mode: bool) -> None:
    """Write ml-ci.yaml, .github/workflows/, docs/runbooks/ and a pre-commit entry (never
    overwrites without --force)."""
    from ml_ci.pack.init import InitSettings, execute

    result = execute(InitSettings(root=root, force=force, action=action, drift=drift, live=live))
    lines = [f"ml-ci init in {result.root}", f"  task    {result.task}: {result.task_reason}"]
    lines += [f"  wrote   {name}" for name in result.written]
    lines += [f"  kept    {name}" for name in result.skipped]
    lines += [f"warning: {text}" for text in result.warnings]
    lines += ["next:"] + [f"  - {step}" for step in result.next_steps]
    Console(json_mode=json_mode).result("\n".join(lines), asdict(result))
