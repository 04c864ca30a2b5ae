"""Options and helpers shared by the subcommands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ml_ci.config import Config

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


def acting_context(
    repo: str | None, config_file: Path | None, *, needs_repo: str | None = None
) -> dict[str, Any]:
    """What an ``--apply`` acts with: the repository root, the GitHub client (``None`` without
    ``--repo``), the server and run URLs. ``needs_repo``: the command that cannot do without
    ``--repo`` (it is then an error to leave it out)."""
    from ml_ci.errors import InputError
    from ml_ci.github.context import from_env
    from ml_ci.gitutil import repo_root

    if needs_repo and not repo:
        raise InputError(f"{needs_repo} --apply needs --repo OWNER/NAME (or GITHUB_REPOSITORY)")
    client = None
    if repo:
        from ml_ci.github.client import cli_client

        client = cli_client()
    context = from_env()
    return {
        "root": repo_root(config_file.parent if config_file is not None else Path.cwd()),
        "client": client,
        "repository": repo,
        "server": context.server_url,
        "run_url": context.run_url,
    }


def found_config(path: Path | None) -> Path | None:
    """``--config PATH``, else the ``ml-ci.yaml`` found from the current folder upwards, else
    None (for commands that work without one)."""
    if path is not None:
        return path
    from ml_ci.config import find_config
    from ml_ci.errors import ConfigError

    try:
        return find_config(Path.cwd())
    except ConfigError:
        return None


def optional_config(
    path: Path | None, say: Callable[[str], None] | None = None
) -> tuple[Config, Path | None]:
    """The validated config of :func:`found_config` and its path, else the defaults (and
    ``say`` says so)."""
    from ml_ci.config import CONFIG_FILE, Config, load_config

    found = found_config(path)
    if found is None:
        if say is not None:
            say(f"no {CONFIG_FILE} found: using the defaults (task binary)")
        return Config(), None
    return load_config(found), found
