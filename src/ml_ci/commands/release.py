"""``ml-ci release``: tag the merged, approved model version and assign the canary stage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ml_ci.commands._common import config_option, record_option
from ml_ci.console import Console, json_option
from ml_ci.errors import UsageError

if TYPE_CHECKING:
    from ml_ci.config import Config

F = TypeVar("F", bound=Callable[..., Any])


def load(config_path: Path | None) -> tuple[Config, Path]:
    """The config and the git root of the repository it belongs to."""
    config, root, _ = load_with_path(config_path)
    return config, root


def load_with_path(config_path: Path | None) -> tuple[Config, Path, str]:
    """The config, the git root, and the config's path inside the repository."""
    from ml_ci.config import find_config, load_config
    from ml_ci.gitutil import repo_root

    path = config_path or find_config(Path.cwd())
    root = repo_root(path.resolve().parent)
    return load_config(path), root, path.resolve().relative_to(root.resolve()).as_posix()


def tag_options(func: F) -> F:
    """``--remote``, ``--no-push``, ``--approved-by``, ``--offline``, ``--repo``."""
    for option in reversed(
        [
            click.option("--remote", default="origin", show_default=True, help="Git remote."),
            click.option(
                "--push/--no-push",
                default=True,
                show_default=True,
                help="Push the tags (a push of an existing tag is refused: race-safe).",
            ),
            click.option(
                "--approved-by",
                multiple=True,
                help="Offline only: approver's GitHub login (repeat for several).",
            ),
            click.option(
                "--offline",
                is_flag=True,
                help="No GitHub API: approvals from --approved-by, checked against the config.",
            ),
            click.option(
                "--repo",
                envvar="GITHUB_REPOSITORY",
                default=None,
                help="OWNER/NAME on GitHub (default: $GITHUB_REPOSITORY).",
            ),
        ]
    ):
        func = option(func)
    return func


def assign_client(config: Config, offline: bool) -> Any:
    """A GitHub client when promote/rollback must check approvals online, else ``None``."""
    if offline or not config.release.promote_requires_approval:
        return None
    from ml_ci.github.client import cli_client

    return cli_client()


@click.command("release")
@config_option
@record_option
@click.option("--commit", default="HEAD", show_default=True, help="The merge commit to release.")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default=None,
    help="Version bump (default: the ml-ci:major|minor|patch label, else release.bump).",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the canary manifest (default: ml-ci-canary.json next to the record).",
)
@tag_options
@json_option
def command(
    config_path: Path | None,
    record_path: Path,
    commit: str,
    bump: str | None,
    manifest_path: Path | None,
    remote: str,
    push: bool,
    approved_by: tuple[str, ...],
    offline: bool,
    repo: str | None,
    json_mode: bool,
) -> None:
    """Refuse (exit 1, with the reason) unless the gates and drift, RECOMPUTED here for the
    merged commit under its first parent's ml-ci.yaml (both models scored with
    predict.command), pass, governance is satisfied at the pull request's head SHA, and the
    pull request's record agrees; then tag {model}@v{semver} and {model}#{stage}#{n}, push
    them, and create the GitHub release (notes, record, claimed record, canary manifest,
    MODEL_CARD.md). Rerunning for the same merge is a no-op.
    """
    from ml_ci.release.release import ReleaseSettings, execute

    console = Console(json_mode=json_mode)
    if approved_by and not offline:
        raise UsageError("--approved-by is for --offline runs; online, approvals come from GitHub")
    config, root, config_file = load_with_path(config_path)
    client = None
    if not offline:
        from ml_ci.github.client import cli_client

        if not repo:
            raise UsageError("pass --repo OWNER/NAME (or set GITHUB_REPOSITORY), or --offline")
        client = cli_client()
    settings = ReleaseSettings(
        root=root,
        config=config,
        record_path=record_path,
        commit=commit,
        repo=repo,
        offline=offline,
        approved_by=approved_by,
        bump=bump,  # type: ignore[arg-type]
        remote=remote,
        push=push,
        manifest_path=manifest_path,
        config_file=config_file,
    )
    result = execute(settings, client, console.progress)
    verb = "released" if result.created else "already released"
    text = f"{verb}: {result.model} {result.version} -> {result.stage} ({result.commit[:7]})"
    if result.tags:
        text += "\ntags: " + ", ".join(result.tags)
    if result.release_url:
        text += f"\nrelease: {result.release_url}"
    said = result.claimed
    text += (
        f"\n{'recomputed' if result.recomputed else 'NOT recomputed (release.trust_record)'}; "
        f"the pull request's record claimed compare {said.get('compare') or '-'}, drift "
        f"{said.get('drift') or '-'}"
    )
    console.result(text, result.to_json())
