"""``ml-ci demo``: build the bundled example and run the pipeline's steps on it."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.console import Console, json_option


@click.command("demo")
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder to build the example in (default: a new temporary folder, kept).",
)
@click.option("--show", is_flag=True, help="Also print the full markdown report.")
@json_option
def command(workdir: Path | None, show: bool, json_mode: bool) -> None:
    """Build the example (git + DVC, offline) and run the whole flow on it: pull, verified
    reproduction, compare, drift, report, release (with its model card), canary rollback and
    promotion, production monitoring with the dashboard, and a rollback.

    Nothing leaves the machine: the git and DVC remotes are local folders.
    """
    import tempfile

    from ml_ci.demo import FULL_DEMO_STEPS
    from ml_ci.errors import InputError
    from ml_ci.example import run_demo

    console = Console(json_mode=json_mode)
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="ml-ci-demo-"))
    elif workdir.exists() and any(workdir.iterdir()):
        raise InputError(f"--dir {workdir}: the folder is not empty; give a new or empty one")
    context = run_demo(workdir, steps=FULL_DEMO_STEPS, progress=console.progress)
    lines = [f"demo in {context.workdir}"]
    width = max((len(name) for name in context.verdicts), default=9)
    lines += [f"  {name:<{width}} {verdict}" for name, verdict in context.verdicts.items()]
    lines.append(f"record: {context.record_path}")
    lines.append(f"report: {context.report_path}")
    payload = {
        "workdir": str(context.workdir),
        "checkout": str(context.checkout),
        "record": str(context.record_path),
        "report": str(context.report_path),
        "verdicts": context.verdicts,
    }
    if show and context.report_path is not None:
        markdown = context.report_path.read_text(encoding="utf-8")
        lines += ["", markdown]
        payload["report_markdown"] = markdown
    console.result("\n".join(lines), payload)
