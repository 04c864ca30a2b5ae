"""Options and helpers shared by the subcommands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """``--config PATH``: default is ``ml-ci.yaml`` found from the current folder upwards."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Path of ml-ci.yaml (default: found from the current folder upwards).",
    )(func)


def record_option(func: F) -> F:
    """``--record PATH``: the evaluation record this command reads and extends."""
    return click.option(
        "--record",
        "record_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("ml-ci-record.json"),
        show_default=True,
        help="Evaluation record to read and extend.",
    )(func)


def serving_options(func: F) -> F:
    """``--logs SRC`` and ``--now T``: the serving logs and the moment a judgement is made
    (canary, monitor)."""
    func = click.option(
        "--now", default=None, help="Evaluate as of this time (default: the clock; UTC)."
    )(func)
    return click.option(
        "--logs",
        "logs",
        default=None,
        help="Serving logs: file, glob or folder (overrides logs: in ml-ci.yaml).",
    )(func)


def acting_options(func: F) -> F:
    """``--repo OWNER/NAME`` and ``--push/--no-push`` for ``--apply`` (canary, monitor)."""
    func = click.option(
        "--push/--no-push", default=True, show_default=True, help="Push tags and notes."
    )(func)
    return click.option(
        "--repo", envvar="GITHUB_REPOSITORY", default=None, help="OWNER/NAME (for --apply)."
    )(func)
