"""``ml-ci schema``: print the JSON Schema of ml-ci.yaml (or of the evaluation record)."""

from __future__ import annotations

import json

import click


@click.command("schema")
@click.option("--record", "of_record", is_flag=True, help="The evaluation record's schema instead.")
def command(of_record: bool) -> None:
    """Print a JSON Schema, for editors (yaml-language-server) and other tools."""
    if of_record:
        from ml_ci.record import record_json_schema

        schema = record_json_schema()
    else:
        from ml_ci.config import config_json_schema

        schema = config_json_schema()
    click.echo(json.dumps(schema, indent=2))
