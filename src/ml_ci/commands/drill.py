"""``ml-ci drill SCENARIO``: a tabletop exercise of monitor, canary and the runbooks."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.console import Console, json_option


@click.command("drill")
@click.argument(
    "scenario",
    type=click.Choice(
        ["latency-regression", "accuracy-decay", "data-source-outage", "drift", "bad-canary"]
    ),
)
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the demo repository is built (reused by later drills; default: a temp folder).",
)
@json_option
def command(scenario: str, workdir: Path | None, json_mode: bool) -> None:
    """Inject SCENARIO into the demo's simulated serving logs (or data), show what would be
    paged, opened and rolled back, then run the runbook's commands; exit 1 if the scenario
    went unnoticed or a runbook command no longer works."""
    import tempfile

    from ml_ci.drill import run_drill
    from ml_ci.errors import GateFailed

    console = Console(json_mode=json_mode)
    folder = workdir or Path(tempfile.mkdtemp(prefix="ml-ci-drill-"))
    result = run_drill(scenario, folder, progress=console.progress)
    lines = [
        f"drill {scenario}: {'ok' if result.ok else 'FAILED'} "
        f"(expected {result.expected}, found {result.found})",
        "would:" if result.would else "would: nothing",
        *(f"  - {action}" for action in result.would),
        f"runbook {result.runbook}:",
        *(f"  {'ok  ' if c.ok else 'FAIL'} exit {c.exit}  {c.command}" for c in result.commands),
        f"repository: {result.checkout}",
    ]
    console.result("\n".join(lines), result.to_json())
    if not result.ok:
        raise GateFailed(f"drill {scenario}: the scenario or its runbook did not work")
