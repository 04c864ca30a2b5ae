"""``ml-ci rollback``: give a stage back to the version that held it before."""

from __future__ import annotations

from typing import Any

import click

from ml_ci.commands._common import config_option
from ml_ci.commands.release import tag_options
from ml_ci.console import json_option


@click.command("rollback")
@config_option
@click.option("--model", default=None, help="Model name (default: model.name in ml-ci.yaml).")
@click.option("--stage", required=True, help="Stage to roll back, e.g. production.")
@tag_options
@json_option
def command(**options: Any) -> None:
    """Assign the stage's previous version again with a new {model}#{stage}#{n} tag (tags are
    never deleted or moved)."""
    from ml_ci.commands.promote import assign

    assign("rollback", version=None, **options)
