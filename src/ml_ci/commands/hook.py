"""``ml-ci hook <name>``: the pre-commit hooks (see ``.pre-commit-hooks.yaml``).

Each subcommand takes the file names pre-commit passes, prints one line per problem and exits 1
when it found any (0 when clean). Only light modules load here: the hooks must start fast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ml_ci.console import Console, json_option
from ml_ci.errors import GateFailed

if TYPE_CHECKING:
    from ml_ci.pack.hooks import Finding

_files = click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))


def _report(hook: str, findings: Sequence[Finding], json_mode: bool, checked: int) -> None:
    """Print the findings (or a one-line all-clear); raise GateFailed (exit 1) if any."""
    lines = [str(finding) for finding in findings]
    text = "\n".join(lines) if lines else f"{hook}: ok ({checked} checked)"
    Console(json_mode=json_mode).result(
        text,
        {
            "hook": hook,
            "ok": not findings,
            "findings": [{"path": f.path, "line": f.line, "message": f.message} for f in findings],
        },
    )
    if findings:
        raise GateFailed(f"{hook}: {len(findings)} problem(s) found")


@click.group("hook")
def command() -> None:
    """pre-commit hooks: config, dvc-lock, no-large-data, determinism, catalog (exit 1 on a problem)."""


@command.command("config")
@_files
@json_option
def config_hook(files: tuple[Path, ...], json_mode: bool) -> None:
    """Validate ml-ci.yaml files (default: ./ml-ci.yaml)."""
    # a hook process needs no pydantic plugins; skipping their entry-point scan saves ~80 ms
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from ml_ci.pack.hooks import config

    paths = list(files) or [Path("ml-ci.yaml")]
    _report("ml-ci-config", config.check(paths), json_mode, len(paths))


@command.command("dvc-lock")
@_files
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Repository top folder.",
)
@json_option
def dvc_lock_hook(files: tuple[Path, ...], root: Path, json_mode: bool) -> None:
    """Check dvc.lock against dvc.yaml, params and git-tracked deps (FILES are ignored)."""
    from ml_ci.pack.hooks import dvc_lock

    _report("ml-ci-dvc-lock", dvc_lock.check(root), json_mode, 1)


@command.command("no-large-data")
@_files
@click.option(
    "--max-data-kb",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Largest data/model file (by extension) allowed in git, in KB.",
)
@click.option(
    "--max-kb",
    type=click.IntRange(min=1),
    default=5120,
    show_default=True,
    help="Largest file of any kind allowed in git, in KB.",
)
@json_option
def large_data_hook(
    files: tuple[Path, ...], max_data_kb: int, max_kb: int, json_mode: bool
) -> None:
    """Refuse data and model files committed to git instead of DVC."""
    from ml_ci.pack.hooks import large_data

    findings = large_data.check(files, max_data_kb=max_data_kb, max_kb=max_kb)
    _report("ml-ci-no-large-data", findings, json_mode, len(files))


@command.command("determinism")
@_files
@json_option
def determinism_hook(files: tuple[Path, ...], json_mode: bool) -> None:
    """Find unseeded randomness in Python training code (opt out: '# ml-ci: allow-random')."""
    from ml_ci.pack.hooks import determinism

    paths = [path for path in files if path.suffix == ".py"]
    _report("ml-ci-determinism", determinism.check(paths), json_mode, len(paths))


@command.command("catalog")
@_files
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Repository top folder.",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Catalog file (default: governance.catalog in ml-ci.yaml).",
)
@json_option
def catalog_hook(
    files: tuple[Path, ...], root: Path, catalog_path: Path | None, json_mode: bool
) -> None:
    """DVC remotes, imports, tracked paths and the model type are in the catalog (FILES are
    ignored)."""
    from ml_ci.pack.hooks import catalog

    _report("ml-ci-catalog", catalog.check(root, catalog_path), json_mode, 1)
