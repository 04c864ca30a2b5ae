"""``ml-ci registry show``: models, versions and stages from the git tags (offline)."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.console import Console, json_option


@click.group("registry")
def command() -> None:
    """The GTO-compatible model registry kept in git tags."""


@command.command("show")
@click.option("--model", default=None, help="Only this model.")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path("."),
    help="A folder inside the git repository (default: the current one).",
)
@json_option
def show(model: str | None, root: Path, json_mode: bool) -> None:
    """List models, their versions and which version holds each stage (reads local tags:
    run `git fetch --tags` first to see the remote's)."""
    from ml_ci.gitutil import repo_root
    from ml_ci.release.registry import load_registry

    models = load_registry(repo_root(root))
    if model is not None:
        models = {name: state for name, state in models.items() if name == model}
    payload = {"models": {name: state.to_json() for name, state in sorted(models.items())}}
    lines = []
    for name, state in sorted(models.items()):
        versions = ", ".join(
            v.version + ("" if v.active else " (deregistered)") for v in state.versions.values()
        )
        lines.append(f"{name}: latest {state.latest or '-'}; versions: {versions or '-'}")
        for stage, holder in sorted(state.stages.items()):
            lines.append(f"  {stage}: {holder.version} ({holder.commit[:7]}, {holder.tag})")
    Console(json_mode=json_mode).result("\n".join(lines) or "no models in the git tags", payload)
