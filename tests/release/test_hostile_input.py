"""Hostile records and events: each is exit 2 with one line, never exit 3 or a silent accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.cli import main
from ml_ci.errors import InputError
from ml_ci.github.context import from_env

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "record-v1.json"


def validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["record", "validate", str(path)])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def real_record() -> dict[str, object]:
    data: dict[str, object] = json.loads(V1.read_text(encoding="utf-8"))
    return data


def test_deeply_nested_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"schema_version": 1, "links": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert "nested too deeply" in lines[0]


def test_huge_integer_in_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(real_record()).replace('"size": ', '"size": ' + "9" * 5001 + ', "x": ', 1)
    path = tmp_path / "r.json"
    path.write_text(text)
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert str(path) in lines[0]


def test_record_linked_to_an_endless_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    path.symlink_to("/dev/zero")
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert "not a regular file" in lines[0]


def test_record_over_the_size_limit_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    with path.open("wb") as handle:  # sparse: 65 MiB of nothing, no disk used
        handle.truncate(65 * 1024 * 1024)
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert "limit" in lines[0]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str], constant: str) -> None:
    data = real_record()
    text = json.dumps(data).replace('"alpha": 0.05', f'"alpha": {constant}', 1)
    assert constant in text
    path = tmp_path / "r.json"
    path.write_text(text)
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert constant in lines[0]


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("release", "version", 2), ("artifact", "size", "2687"), ("compare", "alpha", "0.05")],
)
def test_numbers_as_strings_and_strings_as_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, key: str, value: object
) -> None:
    data = real_record()
    part = data[section]
    assert isinstance(part, dict) and key in part
    part[key] = value
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert f"{section}.{key}" in lines[0]


@pytest.mark.parametrize("version", [True, 1.0, "1", None])
def test_schema_version_must_be_an_integer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: object
) -> None:
    data = real_record()
    data["schema_version"] = version
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    code, lines = validate(path, capsys)
    assert (code, len(lines)) == (2, 1)
    assert "schema_version" in lines[0]


def test_event_file_that_is_a_list(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("[]")
    with pytest.raises(InputError, match=r"GITHUB_EVENT_PATH .*JSON object"):
        from_env({"GITHUB_EVENT_PATH": str(tmp_path / "e.json")})


@pytest.mark.parametrize("number", ["7", 7.0, True])
def test_pull_request_number_must_be_an_integer(tmp_path: Path, number: object) -> None:
    event = {"pull_request": {"number": number, "head": {"sha": "a" * 40}}}
    (tmp_path / "e.json").write_text(json.dumps(event))
    with pytest.raises(InputError, match=r"pull_request\.number"):
        from_env({"GITHUB_EVENT_PATH": str(tmp_path / "e.json")})


def test_deep_or_endless_event_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        from_env({"GITHUB_EVENT_PATH": str(tmp_path / "e.json")})
    (tmp_path / "z.json").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="not a regular file"):
        from_env({"GITHUB_EVENT_PATH": str(tmp_path / "z.json")})


def test_event_errors_reach_the_cli_as_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "e.json").write_text(json.dumps({"pull_request": {"number": "7"}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "e.json"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    record = tmp_path / "r.json"
    record.write_text(V1.read_text())
    code = main(["publish", "--record", str(record), "--dry-run"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert (code, len(lines)) == (2, 1)
    assert "pull_request.number" in lines[0]
