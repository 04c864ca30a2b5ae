"""``ml-ci record show|validate``: read an evaluation record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ml_ci.console import Console, json_option

if TYPE_CHECKING:
    from ml_ci.record import EvaluationRecord

_PATH = click.argument(
    "path", type=click.Path(path_type=Path, dir_okay=False), default=Path("ml-ci-record.json")
)


@click.group("record")
def command() -> None:
    """Show or validate an evaluation record (default: ./ml-ci-record.json)."""


@command.command("show")
@_PATH
@json_option
def show(path: Path, json_mode: bool) -> None:
    """Summarise a record: commits, model, and each stage's verdict."""
    from ml_ci.record import load_record

    record = load_record(path)
    Console(json_mode=json_mode).result(summary_text(path, record), summary(record))


@command.command("validate")
@_PATH
@json_option
def validate(path: Path, json_mode: bool) -> None:
    """Check a record against the schema (exit 2 naming the first problem)."""
    from ml_ci.record import load_record

    record = load_record(path)
    Console(json_mode=json_mode).result(
        f"{path}: valid (schema_version {record.schema_version})",
        {"path": str(path), "valid": True, "schema_version": record.schema_version},
    )


def summary(record: EvaluationRecord) -> dict[str, Any]:
    """The headline facts of a record, as a JSON-ready mapping."""
    verdicts: dict[str, Any] = {
        "repro": record.repro.verdict if record.repro else None,
        "compare": record.compare.verdict if record.compare else None,
        "drift": record.drift.verdict if record.drift else None,
        "governance": (
            ("satisfied" if record.governance.satisfied else "pending")
            if record.governance
            else None
        ),
        "release": (
            f"{record.release.version} -> {record.release.stage}" if record.release else None
        ),
    }
    return {
        "schema_version": record.schema_version,
        "model": record.model,
        "artifact": record.artifact.model_dump(mode="json") if record.artifact else None,
        "head_sha": record.repo.head_sha,
        "evaluated_sha": record.repo.evaluated_sha,
        "base_sha": record.repo.base_sha,
        "head_ref": record.repo.head_ref,
        "base_ref": record.repo.base_ref,
        "params_changed": [f"{change.file}:{change.key}" for change in record.lineage.params_diff]
        if record.lineage
        else [],
        "verdicts": verdicts,
        "updated_at": record.updated_at,
    }


def summary_text(path: Path, record: EvaluationRecord) -> str:
    facts = summary(record)
    artifact = facts["artifact"]
    lines = [
        f"record {path} (schema {facts['schema_version']}, updated {facts['updated_at']})",
        f"  model:      {facts['model'] or '-'}"
        + (f" ({artifact['path']} md5 {artifact['hash']})" if artifact else ""),
        f"  head:       {facts['head_sha'] or '-'} ({facts['head_ref'] or '-'})",
        f"  evaluated:  {facts['evaluated_sha'] or '-'}",
        f"  base:       {facts['base_sha'] or '-'} ({facts['base_ref'] or '-'})",
        f"  params:     {', '.join(facts['params_changed']) or 'no change'}",
    ]
    for stage, verdict in facts["verdicts"].items():
        lines.append(f"  {stage + ':':<12}{verdict or 'not run'}")
    return "\n".join(lines)
