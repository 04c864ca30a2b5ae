"""``ml-ci report``: render the evaluation record as markdown, HTML or a job summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml_ci.commands._common import config_option, record_option
from ml_ci.console import Console, json_option


def report_settings(config_path: Path | None) -> tuple[str | None, Path | None, Any]:
    """(title, template folder, report config) from ml-ci.yaml; defaults when there is none."""
    from ml_ci.config import Config, find_config, load_config
    from ml_ci.errors import ConfigError

    if config_path is None:
        try:
            config_path = find_config(Path.cwd())
        except ConfigError:
            return None, None, Config().report
    config = load_config(config_path)
    folder = None
    if config.report.template_dir:
        folder = (config_path.parent / config.report.template_dir).resolve()
    return config.report.title, folder, config.report


@click.command("report")
@record_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html", "summary"]),
    default="markdown",
    show_default=True,
    help="markdown: the PR comment; html: one self-contained file; summary: the job summary.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report here instead of stdout.",
)
@config_option
@json_option
def command(
    record_path: Path, fmt: str, output: Path | None, config_path: Path | None, json_mode: bool
) -> None:
    """Render the report of an evaluation record (sections absent from it are left out)."""
    from ml_ci.record import load_record
    from ml_ci.report.render import render
    from ml_ci.report.view import overall_verdict

    record = load_record(record_path)
    title, folder, _ = report_settings(config_path)
    text = render(record, fmt, title=title, template_dir=folder)  # type: ignore[arg-type]
    verdict = overall_verdict(record)
    payload = {
        "format": fmt,
        "verdict": verdict.label,
        "reason": verdict.reason,
        "chars": len(text),
        "output": str(output) if output else None,
    }
    console = Console(json_mode=json_mode)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        console.result(f"{output}: {fmt} report, {verdict.line}", payload)
    elif json_mode:
        console.result("", {**payload, "text": text})
    else:
        click.echo(text, nl=False)
