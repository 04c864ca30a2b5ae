"""``ml-ci validate``: check ml-ci.yaml and say what it configures."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("validate")
@config_option
@json_option
def command(config_path: Path | None, json_mode: bool) -> None:
    """Validate ml-ci.yaml (exit 2 with the key path and what is allowed when it is wrong)."""
    from ml_ci.config import find_config, load_config

    path = config_path or find_config(Path.cwd())
    config = load_config(path)
    Console(json_mode=json_mode).result(
        f"{path}: valid ({config.task}, model {config.model.name!r}, {len(config.gates)} gate(s))",
        {"path": str(path), "valid": True, "config": config.model_dump(mode="json")},
    )
