"""``ml-ci validate``: check ml-ci.yaml, and the predictions table it describes, and say what
it configures."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("validate")
@config_option
@json_option
def command(config_path: Path | None, json_mode: bool) -> None:
    """Validate ml-ci.yaml and, when it exists, the predictions table against it (exit 2 with
    the key path or column and what to do when one is wrong)."""
    from ml_ci.config import find_config, load_config
    from ml_ci.pack.predictions import check_table

    path = config_path or find_config(Path.cwd())
    config = load_config(path)
    table = check_table(config, path.parent, source=str(path))
    lines = [
        f"{path}: valid ({config.task}, model {config.model.name!r}, {len(config.gates)} gate(s))"
    ]
    if table.present:
        classes = f", classes {', '.join(table.classes)}" if config.task == "multiclass" else ""
        lines.append(f"{table.path}: {table.rows} rows fit task {table.task}{classes}")
        lines += [f"warning: {text}" for text in table.too_small]
    else:
        lines.append(f"{table.path}: not in the workspace; checked the config only")
    Console(json_mode=json_mode).result(
        "\n".join(lines),
        {
            "path": str(path),
            "valid": True,
            "config": config.model_dump(mode="json"),
            "predictions": asdict(table),
        },
    )
