"""Record versions are additive: every earlier ``schema_version`` loads forever.

``tests/fixtures/records/record-v1.json`` is a real version-1 record (written by ml-ci 0.1.0's
demo: repro, compare, drift, governance and release sections), the kind a release tag of
that time carries as its asset. Never regenerate it.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from ml_ci.cli import main
from ml_ci.record import SCHEMA_VERSION, EvaluationRecord, load_record, save_record

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "record-v1.json"
SCHEMA = Path(__file__).resolve().parents[2] / "src" / "ml_ci" / "schemas" / "record.schema.json"


def _flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Leaf paths -> values (``a.b[0].c``): a later version may add leaves, never change one."""
    out: dict[str, object] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(data, list):
        for index, value in enumerate(data):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out or {prefix: []}
    return {prefix: data}


def test_a_version_1_record_still_loads() -> None:
    record = load_record(V1)
    assert record.schema_version == 1
    assert record.repo.head_sha == json.loads(V1.read_text())["repo"]["head_sha"]
    assert record.repo.evaluated_sha is None  # a version-2 field, absent in version 1
    assert record.release is not None and record.release.tags


def test_record_validate_accepts_version_1(capsys: object) -> None:
    assert main(["record", "validate", str(V1)]) == 0


def test_resaving_a_version_1_record_keeps_every_field_and_value(tmp_path: Path) -> None:
    """Additive: no field of version 1 is renamed, dropped or given another value."""
    out = tmp_path / "record.json"
    save_record(out, load_record(V1))
    before = _flatten(json.loads(V1.read_text()))
    after = _flatten(json.loads(out.read_text()))
    assert after["schema_version"] == SCHEMA_VERSION == 2
    changed = {
        key: (value, after.get(key, "<missing>"))
        for key, value in before.items()
        if key not in ("schema_version", "updated_at") and after.get(key, "<missing>") != value
    }
    assert changed == {}


def test_new_records_are_version_2_and_match_the_shipped_schema() -> None:
    record = EvaluationRecord()
    assert record.schema_version == 2
    schema = json.loads(SCHEMA.read_text())
    assert "evaluated_sha" in schema["$defs"]["RepoInfo"]["properties"]
    for document in (json.loads(V1.read_text()), json.loads(record.model_dump_json())):
        jsonschema.validate(document, schema)


def test_a_future_version_is_refused(tmp_path: Path, capsys: object) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"schema_version": 3}), encoding="utf-8")
    assert main(["record", "validate", str(path)]) == 2
