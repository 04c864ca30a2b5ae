"""``ml-ci watch``: act on a record's drift verdict (retrain, ask a human, or nothing)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ml_ci.commands._common import config_option, optional_config
from ml_ci.console import Console, json_option


@click.command("watch")
@click.option(
    "--record",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("ml-ci-record.json"),
    show_default=True,
    help="Evaluation record with a drift section (ml-ci drift --output).",
)
@click.option(
    "--retrain-workflow",
    "workflow",
    default="retrain.yml",
    show_default=True,
    help="Workflow file name (or id) to dispatch when the verdict is retrain.",
)
@click.option("--ref", default="main", show_default=True, help="Git ref to run it on.")
@click.option(
    "--repo",
    "repository",
    default=None,
    help="OWNER/NAME (default: $GITHUB_REPOSITORY).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Label for the drift issue when it is opened (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be done; call no API.")
@config_option
@json_option
def command(
    record_path: Path,
    workflow: str,
    ref: str,
    repository: str | None,
    labels: tuple[str, ...],
    dry_run: bool,
    config_path: Path | None,
    json_mode: bool,
) -> None:
    """significant: open (or update) the model's drift incident asking for human validation,
    and do not retrain. retrain: dispatch the retraining workflow. pass: close the open drift
    incident ("recovered"). Needs GITHUB_TOKEN with actions: write and issues: write (not with
    --dry-run). Incidents opened by others count only from a repository role or a bot of
    monitor.incident_bots (ml-ci.yaml, when there is one)."""
    from ml_ci.drift.watch import WatchSettings, run_watch
    from ml_ci.github.context import from_env
    from ml_ci.record import load_record

    console = Console(json_mode=json_mode)
    config, _found = optional_config(config_path)  # optional: it names the trusted bots
    record = load_record(record_path)
    context = from_env(os.environ)
    settings = WatchSettings(
        repository=repository or context.repository,
        workflow=workflow,
        ref=ref,
        model=record.model,
        dry_run=dry_run,
        labels=labels,
        version=record.release.version if record.release is not None else None,
        bots=tuple(config.monitor.incident_bots),
    )
    client = None
    if not dry_run and record.drift is not None:
        from ml_ci.github.client import cli_client

        client = cli_client()
    result = run_watch(record.drift, settings, client, run_url=context.run_url)
    console.result(_text(result), result.to_json())


def _text(result: object) -> str:
    from ml_ci.drift.watch import WatchResult

    assert isinstance(result, WatchResult)
    prefix = "would " if result.dry_run else ""
    if result.action == "nothing":
        if result.incident == "closed":
            return (
                f"drift verdict pass: closed the drift incident #{result.issue_number} "
                f"{result.issue_url or ''} (recovered)".replace("  ", " ")
            )
        what = (
            "would close the drift incident if one is open" if result.dry_run else "nothing to do"
        )
        return f"drift verdict pass: {what} ({result.reason})"
    if result.action == "retrain":
        verb = "dispatch" if result.dry_run else "dispatched"
        return (
            f"drift verdict retrain: {prefix}{verb} {result.workflow} on {result.ref} "
            f"in {result.repository or '(repository not set)'} ({result.reason})"
        )
    if result.dry_run:
        return (
            f"drift verdict significant: would open or update the drift incident ({result.reason})"
        )
    return (
        f"drift verdict significant: {result.incident} incident #{result.issue_number} "
        f"{result.issue_url or ''} asking for human validation; no retraining".replace("  ", " ")
    )
