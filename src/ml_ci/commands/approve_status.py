"""``ml-ci approve-status``: evaluate governance approvals on a pull request."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option
from ml_ci.errors import GateFailed, UsageError


@click.command("approve-status")
@config_option
@click.option("--repo", envvar="GITHUB_REPOSITORY", default=None, help="OWNER/NAME.")
@click.option("--pr", "number", type=int, default=None, help="Pull request number.")
@click.option(
    "--record",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The pull request's evaluation record: under governance.require: flagged it can only "
    "add the requirement (missing, invalid, for another head or flagged -> approval required); "
    "its governance section is written.",
)
@click.option("--dry-run", is_flag=True, help="Evaluate only; write nothing to GitHub.")
@click.option("--strict", is_flag=True, help="Exit 1 while approval is missing or rejected.")
@json_option
def command(
    config_path: Path | None,
    repo: str | None,
    number: int | None,
    record_path: Path | None,
    dry_run: bool,
    strict: bool,
    json_mode: bool,
) -> None:
    """Who approved which commit, and whether it counts; sets the ml-ci/governance status and
    a governance comment (never on a pull request from a fork).

    Approve with a review, or a comment '/ml-ci approve <sha>'; reject with
    '/ml-ci reject <sha> <reason>'. Inside Actions the repository and pull request come from
    the event (pull_request, pull_request_review, issue_comment).
    """
    from ml_ci.config import find_config, load_config
    from ml_ci.github.client import cli_client
    from ml_ci.github.context import from_env
    from ml_ci.governance.approve_status import ApproveStatusSettings, execute

    console = Console(json_mode=json_mode)
    context = from_env()
    repo = repo or context.repository
    number = number or context.pull_request
    if number is None and context.event_name == "issue_comment":
        console.result("not a pull request comment: nothing to do", {"skipped": True})
        return
    if not repo or number is None:
        raise UsageError(
            "pass --repo OWNER/NAME and --pr NUMBER (inside Actions the event gives them)"
        )
    found = (config_path or find_config(Path.cwd())).resolve()
    config = load_config(found)
    settings = ApproveStatusSettings(
        config=config,
        repo=repo,
        number=number,
        record_path=record_path,
        write=not dry_run,
        target_url=context.run_url,
        config_file=_config_path(found),
    )
    result = execute(settings, cli_client(), console.progress)
    section = result.section
    lines = [
        f"governance: {section.head_sha and section.head_sha[:7]}: "
        f"{'satisfied' if section.satisfied else 'not satisfied'}"
    ]
    lines.append(
        f"  approval {'required' if section.required else 'not required'}: {result.required_reason}"
    )
    if section.required and not section.satisfied and section.approve_command:
        lines.append(f"  approve with a review, or the comment: {section.approve_command}")
    for decision in section.decisions:
        how = "counted" if decision.counted else f"not counted: {decision.reason}"
        lines.append(f"  {decision.actor} {decision.action} via {decision.via}: {how}")
    if result.fork:
        lines.append("pull request from a fork: nothing written to GitHub")
    console.result("\n".join(lines), result.to_json())
    if strict and not section.satisfied:
        raise GateFailed("governance not satisfied")


def _config_path(config_file: Path) -> str:
    """The config's repository path (the files it names are added by the governance rule)."""
    from ml_ci.errors import MlCiError
    from ml_ci.gitutil import repo_root

    try:
        root = repo_root(config_file.parent)
    except MlCiError:  # not in a git checkout: paths are relative to the config's folder
        root = config_file.parent
    return config_file.relative_to(root).as_posix()
