"""``ml-ci baseline``: score the baseline model on the candidate's evaluation data."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("baseline")
@click.option(
    "--ref",
    default=None,
    help="Git ref of the baseline (default: baseline.stage, baseline.ref, or the merge-base "
    "of HEAD with baseline.default_branch).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("baseline-predictions.csv"),
    show_default=True,
    help="Where to write the baseline's predictions table.",
)
@config_option
@json_option
def command(ref: str | None, output: Path, config_path: Path | None, json_mode: bool) -> None:
    """Materialise the baseline model from git + DVC (no checkout) and run predict.command on
    the working tree's predict.data, so baseline and candidate are scored on the same rows."""
    from ml_ci import gitutil
    from ml_ci.compare.baseline import produce_baseline
    from ml_ci.config import find_config, load_config

    console = Console(json_mode=json_mode)
    root = gitutil.repo_root(Path.cwd())
    config = load_config(config_path or find_config(Path.cwd()))
    result = produce_baseline(root, config, ref, output, progress=console.progress)
    text = f"baseline predictions ({result.ref}, {result.commit[:12]}) -> {result.output}"
    if result.timing is not None:
        text += f"; timed {len(result.timing.baseline_ms)} run(s) per model"
    console.result(text, result.to_json())
