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
@click.option("--now", default=None, help="Judge retire_after as of this time (default: now).")
@json_option
def show(model: str | None, root: Path, now: str | None, json_mode: bool) -> None:
    """List models, their versions and which version holds each stage (reads local tags:
    run `git fetch --tags` first to see the remote's), each version's latest canary and
    monitor results (git notes refs/notes/ml-ci), and which versions governance.retire_after
    says are due for retirement."""
    import time

    from ml_ci.clock import parse_time
    from ml_ci.gitutil import repo_root
    from ml_ci.registry import load_registry
    from ml_ci.release.lifecycle import results_summary, retirement_due

    top = repo_root(root)
    models = load_registry(top)
    if model is not None:
        models = {name: state for name, state in models.items() if name == model}
    moment = parse_time(now, "--now") if now is not None else time.time()
    retire_after = _retire_after(top)
    payload = {"models": {name: state.to_json() for name, state in sorted(models.items())}}
    lines = []
    for name, state in sorted(models.items()):
        due = retirement_due(state, retire_after, moment) if retire_after else {}
        for entry in payload["models"][name]["versions"]:  # type: ignore[attr-defined]
            info = state.versions[entry["version"]]
            entry["results"] = results_summary(top, info.commit)
            entry["retire_due"] = due.get(info.version)
        versions = ", ".join(
            v.version + ("" if v.active else " (deregistered)") for v in state.versions.values()
        )
        lines.append(f"{name}: latest {state.latest or '-'}; versions: {versions or '-'}")
        for stage, holder in sorted(state.stages.items()):
            lines.append(f"  {stage}: {holder.version} ({holder.commit[:7]}, {holder.tag})")
        for version, why in sorted(due.items()):
            lines.append(f"  retire {version}? {why}")
    Console(json_mode=json_mode).result("\n".join(lines) or "no models in the git tags", payload)


def _retire_after(root: Path) -> object | None:
    """``governance.retire_after`` of the repository's ml-ci.yaml (None without one)."""
    from ml_ci.config import CONFIG_FILE, load_config

    path = root / CONFIG_FILE
    if not path.is_file():
        return None
    criteria = load_config(path).governance.retire_after
    return criteria if (criteria.age or criteria.superseded) else None
