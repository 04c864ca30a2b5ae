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


def canary_section(model: str | None, path: Path | None, version: str | None) -> Any:
    """The canary view from a ``--json`` file, or from ``version``'s latest stored result."""
    from ml_ci.errors import InputError

    if path is None and version is None:
        return None
    if path is not None and version is not None:
        raise InputError("give --canary FILE or --canary-version VERSION, not both")
    from ml_ci.report.canary import canary_view

    if path is not None:
        from ml_ci.jsonfile import read_json

        return canary_view(read_json(path, "canary result"), str(path))
    from ml_ci.gitutil import repo_root
    from ml_ci.registry import load_registry
    from ml_ci.release.results import read_results

    if model is None:
        raise InputError("--canary-version: the record names no model; use --canary FILE")
    root = repo_root(Path.cwd())
    info = load_registry(root).get(model)
    found = info.versions.get(str(version)) if info is not None else None
    if found is None:
        raise InputError(
            f"--canary-version: model {model!r} has no version {version!r} in this repository's "
            "tags; run `ml-ci registry show` (and `git fetch --tags`)"
        )
    stored = read_results(root, found.commit, "canary")
    if not stored:
        raise InputError(
            f"--canary-version: no canary result stored for {model} {version} (git notes "
            "refs/notes/ml-ci); run `git fetch origin refs/notes/ml-ci:refs/notes/ml-ci`"
        )
    return canary_view(stored[-1], f"the stored canary result of {model} {version}")


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
@click.option(
    "--canary",
    "canary_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Add a canary section from this file (the output of `ml-ci canary --replay --json`).",
)
@click.option(
    "--canary-version",
    default=None,
    metavar="VERSION",
    help="Add the canary section of VERSION's latest stored result (git notes refs/notes/ml-ci "
    "on the version's commit; the record's model).",
)
@config_option
@json_option
def command(
    record_path: Path,
    fmt: str,
    output: Path | None,
    canary_path: Path | None,
    canary_version: str | None,
    config_path: Path | None,
    json_mode: bool,
) -> None:
    """Render the report of an evaluation record (sections absent from it are left out)."""
    from ml_ci.record import load_record
    from ml_ci.report.render import render
    from ml_ci.report.view import overall_verdict

    record = load_record(record_path)
    title, folder, _ = report_settings(config_path)
    canary = canary_section(record.model, canary_path, canary_version)
    text = render(record, fmt, title=title, template_dir=folder, canary=canary)  # type: ignore[arg-type]
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
