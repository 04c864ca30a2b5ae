"""``ml-ci pull``: fetch DVC-tracked data from the configured remote."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option

if TYPE_CHECKING:
    from ml_ci.config import Config


@click.command("pull")
@config_option
@click.option("--remote", default=None, help="DVC remote name (default: data.remote, else DVC's).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Parallel transfers.")
@click.argument("targets", nargs=-1)
@json_option
def command(
    config_path: Path | None,
    remote: str | None,
    jobs: int | None,
    targets: tuple[str, ...],
    json_mode: bool,
) -> None:
    """Pull DVC-tracked data (TARGETS, default data.targets or everything) from the remote.

    Transient failures are retried (data.retries) with exponential backoff.
    """
    from ml_ci.data import PullSettings, execute

    console = Console(json_mode=json_mode)
    config = _config(config_path)
    settings = PullSettings(
        start=config_path.parent if config_path else Path.cwd(),
        targets=list(targets) or (list(config.data.targets) if config else []),
        remote=remote or (config.data.remote if config else None),
        jobs=jobs or (config.data.jobs if config else None),
        retries=config.data.retries if config else 3,
    )
    result = execute(settings, progress=console.progress)
    console.result(
        f"pulled from {result.remote} ({result.remote_url}): {result.fetched} fetched, "
        f"{len(result.added)} added, {len(result.modified)} modified",
        result.as_dict(),
    )


def _config(path: Path | None) -> Config | None:
    """The given ml-ci.yaml, else the one found upwards, else None: pull works without one."""
    from ml_ci.commands._common import found_config
    from ml_ci.config import load_config

    found = found_config(path)
    return load_config(found) if found is not None else None
