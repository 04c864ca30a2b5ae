"""The evaluation record: one versioned JSON document that every stage adds its section to.

It is the audit trail and the only thing the report and the release read. Stages never
edit each other's sections; they load the record, set theirs, and save it atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, computed_field, model_validator

from ml_ci import __version__
from ml_ci.errors import InputError
from ml_ci.jsonfile import read_json
from ml_ci.record.base import RecordModel
from ml_ci.record.catalog import CatalogSection
from ml_ci.record.compare import CompareSection, GateResult, MetricResult
from ml_ci.record.drift import ColumnDrift, DriftSection, QualityFinding
from ml_ci.record.environment import BaseEnvironment, EnvironmentSection, Fingerprint
from ml_ci.record.governance import Decision, GovernanceSection
from ml_ci.record.pipeline import (
    Lineage,
    LineageEntry,
    OutputCheck,
    ParamChange,
    RepoInfo,
    ReproSection,
)
from ml_ci.record.release import ReleaseSection

RECORD_FILE = "ml-ci-record.json"
#: Versions are additive: version N+1 only adds optional fields, so every earlier version
#: still loads (release tags carry old records). 2 added ``repo.evaluated_sha``.
SCHEMA_VERSION: Literal[2] = 2
SUPPORTED_VERSIONS = (1, 2)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class EvaluationRecord(RecordModel):
    """The record. Sections are ``None`` until their stage has run."""

    schema_version: Literal[1, 2] = Field(
        SCHEMA_VERSION, description="Record format version; every earlier one still loads."
    )
    tool_version: str = __version__
    created_at: str = Field(default_factory=_now)
    updated_at: str = Field(default_factory=_now)
    model: str | None = Field(None, description="Model name from the config.")
    artifact: LineageEntry | None = Field(None, description="The evaluated model artifact.")
    repo: RepoInfo = Field(default_factory=RepoInfo)
    lineage: Lineage | None = None
    repro: ReproSection | None = None
    compare: CompareSection | None = None
    drift: DriftSection | None = None
    governance: GovernanceSection | None = None
    release: ReleaseSection | None = None
    catalog: CatalogSection | None = None
    environment: EnvironmentSection | None = Field(
        None, description="The environment it was trained, evaluated or rescored in (optional)."
    )
    links: dict[str, str] = Field(default_factory=dict, description="run, report artifact, ...")

    @computed_field(  # type: ignore[prop-decorator]
        description="Derived: significant drift needs a person's sign-off before release."
    )
    @property
    def needs_human(self) -> bool:
        """Significant drift needs a person's sign-off before release (written to the file so
        that other tools can read it; recomputed, never trusted, when a record is loaded)."""
        return self.drift is not None and self.drift.verdict == "significant"

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_not_input(cls, data: Any) -> Any:
        if isinstance(data, dict) and "needs_human" in data:
            data = {key: value for key, value in data.items() if key != "needs_human"}
        return data


def record_json_schema() -> dict[str, Any]:
    schema = EvaluationRecord.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ml-ci evaluation record"
    # a derived field: in every written record, not an input (the validation schema lacks it)
    schema["properties"]["needs_human"] = {
        "type": "boolean",
        "readOnly": True,
        "description": "Derived: significant drift needs a person's sign-off before release.",
    }
    return schema


def load_record(path: Path, *, missing_ok: bool = False) -> EvaluationRecord:
    """Read and validate a record; a missing file gives a new record when ``missing_ok``."""
    from ml_ci.config import describe_validation_error

    if not path.exists():
        if missing_ok:
            return EvaluationRecord()
        raise InputError(f"{path}: no such record; run a stage that writes it first (ml-ci repro)")
    data = read_json(path, "record")
    if not isinstance(data, dict):
        raise InputError(f"{path}: a record is a JSON object, not a {type(data).__name__}")
    version = data.get("schema_version")
    # ``True == 1`` and ``1.0 == 1`` in Python: the version must be a JSON integer
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        shown = json.dumps(version) if isinstance(version, bool | int | float | str) else version
        raise InputError(
            f"{path}: schema_version {shown!s:.40} is not supported by ml-ci {__version__} "
            f"(expected an integer, one of {', '.join(map(str, SUPPORTED_VERSIONS))})"
        )
    try:
        # strict: a number written as a string, or a string as a number, is refused
        return EvaluationRecord.model_validate(data, strict=True)
    except ValidationError as error:
        raise InputError(f"{path}: {describe_validation_error(error, EvaluationRecord)}") from None
    except RecursionError:
        raise InputError(f"{path}: the record is nested too deeply to be a real one") from None


def save_record(path: Path, record: EvaluationRecord) -> None:
    """Write atomically (temp file + rename), so a crash never leaves half a record."""
    record.updated_at = _now()
    record.schema_version = SCHEMA_VERSION  # it may now hold fields of this version
    text = record.model_dump_json(indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".ml-ci-record.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def record_digest(record: EvaluationRecord) -> str:
    """sha256 of the canonical JSON of the record's evaluated content (timestamps excluded)."""
    content = record.model_dump(mode="json", exclude={"created_at", "updated_at", "release"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


__all__ = [
    "RECORD_FILE",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "BaseEnvironment",
    "ColumnDrift",
    "CompareSection",
    "Decision",
    "DriftSection",
    "EnvironmentSection",
    "EvaluationRecord",
    "Fingerprint",
    "GateResult",
    "GovernanceSection",
    "Lineage",
    "LineageEntry",
    "MetricResult",
    "OutputCheck",
    "ParamChange",
    "QualityFinding",
    "ReleaseSection",
    "RepoInfo",
    "ReproSection",
    "load_record",
    "record_digest",
    "record_json_schema",
    "save_record",
]
