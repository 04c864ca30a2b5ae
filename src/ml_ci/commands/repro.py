"""``ml-ci repro``: reproduce the pipeline in a pinned environment and verify it."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("repro")
@config_option
@click.option(
    "--runs",
    type=click.IntRange(1, 5),
    default=None,
    help="Runs to compare for determinism (default: repro.runs, 1).",
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Evaluation record to write (default: ml-ci-record.json in the repository root).",
)
@click.argument("targets", nargs=-1)
@json_option
def command(
    config_path: Path | None,
    runs: int | None,
    record_path: Path | None,
    targets: tuple[str, ...],
    json_mode: bool,
) -> None:
    """Rerun TARGETS (default: the whole pipeline) with `dvc repro --force` and verify that
    every output hashes to what the committed dvc.lock says (exit 1 naming the outputs that
    do not). Writes the repro, lineage, repo and artifact sections of the record.
    """
    from ml_ci import gitutil
    from ml_ci.errors import GateFailed
    from ml_ci.repro import (
        ReproSettings,
        describe,
        execute,
        load_optional_config,
        summary_line,
        write_record,
    )

    console = Console(json_mode=json_mode)
    root = gitutil.repo_root(config_path.parent if config_path else Path.cwd())
    config = load_optional_config(config_path, root)
    settings = ReproSettings(
        root=root, config=config, targets=list(targets), runs=runs or config.repro.runs
    )
    result = execute(settings, progress=console.progress)
    path = write_record(result, config, record_path or root / "ml-ci-record.json")
    section = result.section
    console.result(
        describe(section) + f"\nrecord: {path}",
        {"record": str(path), **section.model_dump(mode="json")},
    )
    if not result.ok:
        raise GateFailed(summary_line(result))
