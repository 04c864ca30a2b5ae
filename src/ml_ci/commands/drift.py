"""``ml-ci drift``: compare current data with reference data, column by column."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option
from ml_ci.errors import ConfigError, GateFailed, UsageError

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.record.drift import DriftSection

# --fail-on LEVEL: the lowest dataset verdict that makes the command exit 1.
FAIL_ON = ("significant", "retrain", "never")
_RANK = {"pass": 0, "retrain": 1, "significant": 2, "never": 3}


@click.command("drift")
@click.option("--reference", "-r", help="Reference table: CSV/Parquet path or path@ref.")
@click.option("--current", "-c", help="Current table: CSV/Parquet path or path@ref.")
@config_option
@click.option(
    "--output",
    "--record",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("ml-ci-record.json"),
    show_default=True,
    help="Evaluation record to write the drift section into (created if missing).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="significant",
    show_default=True,
    help="Lowest verdict that exits 1 (retrain only warns by default).",
)
@json_option
def command(
    reference: str | None,
    current: str | None,
    config_path: Path | None,
    output: Path,
    fail_on: str,
    json_mode: bool,
) -> None:
    """Per column: the drift statistic, value, threshold and verdict; per table: quality
    checks, the share of drifted columns and the verdict (pass | retrain | significant).

    Exit 0 for pass and retrain (with a warning), 1 for significant (see --fail-on), 2 for
    bad input.
    """
    from ml_ci.config.drift import DriftConfig
    from ml_ci.drift.engine import DriftSettings, execute

    console = Console(json_mode=json_mode)
    project = _load_config(config_path)
    config = project.drift if project is not None else DriftConfig()
    reference = reference or config.reference
    current = current or config.current
    if not reference or not current:
        raise UsageError(
            "give --reference and --current (or drift.reference / drift.current in ml-ci.yaml)"
        )
    section = execute(
        DriftSettings(
            reference=reference, current=current, config=config, progress=console.progress
        )
    )
    from ml_ci.record import load_record, save_record

    record = load_record(output, missing_ok=True)
    record.drift = section
    if record.model is None and project is not None:  # watch names its issue by the model
        record.model = project.model.name
    save_record(output, record)
    console.result(render_text(section), section.model_dump(mode="json"))
    if _RANK[section.verdict] >= _RANK[fail_on]:
        raise GateFailed(f"drift verdict {section.verdict} ({_why(section)})")
    if section.verdict == "retrain":
        console.warn(f"drift verdict retrain ({_why(section)}); ml-ci watch would retrain")


def _load_config(config_path: Path | None) -> Config | None:
    """ml-ci.yaml (given, or found from here up); None when there is none (defaults apply)."""
    from ml_ci.config import find_config, load_config

    if config_path is None:
        try:
            config_path = find_config(Path.cwd())
        except ConfigError:
            return None
    return load_config(config_path)


def _why(section: DriftSection) -> str:
    drifted = [c.column for c in section.columns if c.drifted]
    failed = [f"{f.check}:{f.column}" for f in section.quality if f.verdict == "fail"]
    parts = []
    if drifted:
        parts.append(f"drifted: {', '.join(drifted[:5])}{' ...' if len(drifted) > 5 else ''}")
    if failed:
        parts.append(f"quality failed: {', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}")
    return "; ".join(parts) or "no findings"


def render_text(section: DriftSection) -> str:
    """The human summary: one line per column, the quality findings, then the verdict."""
    rows: list[list[str]] = [["column", "method", "value", "threshold", "p", "adj. p", "level"]]
    for c in section.columns:
        value = "-" if c.value is None else f"{c.value:.4f}"
        p_values = ["-" if p is None else f"{p:.3g}" for p in (c.p_value, c.adjusted_p_value)]
        rows.append([c.column, c.method, value, f"{c.threshold:g}", *p_values, c.level])
    lines = _aligned(rows)
    found = [f for f in section.quality if f.column is not None]
    if found:
        quality = [["quality", "column", "rows", "verdict", "detail"]]
        quality += [
            [f.check, f.column or "-", str(f.rows), f.verdict, f.detail or ""] for f in found
        ]
        lines += ["", *_aligned(quality)]
    drifted = sum(c.drifted for c in section.columns)
    lines += [
        "",
        f"drifted columns: {drifted}/{len(section.columns)} ({section.share_drifted:.1%}); "
        f"verdict: {section.verdict}",
    ]
    return "\n".join(lines)


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
