"""Hostile input on the config/CLI side: each is exit 2 with ONE line (never a traceback, never
exit 3), and nothing from the input can inject a workflow command into the Actions log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.record import save_record
from tests.foundation.helpers import one_line_error, run_ml_ci
from tests.report.records import demo_record


def config_error(tmp_path: Path, text: str) -> str:
    (tmp_path / "ml-ci.yaml").write_text(text, encoding="utf-8")
    return one_line_error(run_ml_ci("validate", cwd=tmp_path))


def test_deeply_nested_yaml_is_refused(tmp_path: Path) -> None:
    line = config_error(tmp_path, "model: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "ml-ci.yaml" in line and "nested too deeply" in line


@pytest.mark.parametrize(
    ("text", "key", "where"),
    [
        ("model: {name: a}\ntask: binary\nmodel: {name: b}\n", "model", "line 3"),
        ("model:\n  name: a\n  path: m.pkl\n  name: b\n", "name", "line 4"),
    ],
)
def test_duplicate_yaml_keys_are_refused(tmp_path: Path, text: str, key: str, where: str) -> None:
    """YAML parsers keep the last of two equal keys silently: a reviewer reads the first."""
    line = config_error(tmp_path, text)
    assert f"duplicate key {key!r}" in line and where in line


def test_control_bytes_in_a_config_key_are_escaped(tmp_path: Path) -> None:
    line = config_error(tmp_path, 'model:\n  "x\\e[31m\\n::error::pwned": 1\n')
    assert "\x1b" not in line and "\\x1b" in line and "\\n::error::pwned" in line


def test_control_bytes_in_an_option_value_are_escaped(tmp_path: Path) -> None:
    line = one_line_error(run_ml_ci("approve-status", "--pr", "7\n::error::pwned", cwd=tmp_path))
    assert "--pr" in line and "\\n::error::pwned" in line and "--help" in line


def test_control_bytes_from_a_csv_header_cannot_inject_workflow_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ml-ci.yaml").write_text("model: {name: m}\n", encoding="utf-8")
    (tmp_path / "ref.csv").write_text('a,"b\x1b[31m\n::error::pwned"\n1,2\n3,4\n', "utf-8")
    (tmp_path / "cur.csv").write_text("a,c\n1,2\n3,4\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    done = run_ml_ci("drift", "-r", "ref.csv", "-c", "cur.csv", cwd=tmp_path)
    assert done.returncode == 1  # the schema check fails: a column is missing
    assert "\x1b" not in done.stdout + done.stderr
    assert not [line for line in done.stderr.splitlines() if line.lstrip().startswith("::")]
    assert "\\n::error::pwned" in done.stderr
    # stdout is the human table: any line that could be read as a workflow command is inside
    # a ::stop-commands:: block, which the runner does not interpret
    lines = done.stdout.splitlines()
    commands = [i for i, line in enumerate(lines) if line.lstrip().startswith("::")]
    assert commands, done.stdout
    first, last = commands[0], commands[-1]
    assert lines[first].startswith("::stop-commands::")
    assert lines[last] == "::" + lines[first].removeprefix("::stop-commands::") + "::"
    assert any("::error::pwned" in line for line in lines[first + 1 : last])


def test_an_unusable_api_url_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ml-ci.yaml").write_text("model: {name: m}\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_API_URL", "not a url")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_x")
    line = one_line_error(
        run_ml_ci("approve-status", "--repo", "acme/models", "--pr", "1", cwd=tmp_path)
    )
    assert "GITHUB_API_URL" in line and "'not a url'" in line
    assert "attempts" not in line  # refused before any request, not after retries


@pytest.fixture
def publish_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pull_request step's environment for ``ml-ci publish`` (no GitHub is reached: the
    failures below happen before the first request)."""
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": "a" * 40, "repo": {"full_name": "acme/models"}},
            "base": {"repo": {"full_name": "acme/models"}},
        },
    }
    (tmp_path / "event.json").write_text(json.dumps(event))
    save_record(tmp_path / "ml-ci-record.json", demo_record())
    (tmp_path / "ml-ci.yaml").write_text("model: {name: m}\n", encoding="utf-8")
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "GITHUB_TOKEN": "ghs_x",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_an_unwritable_html_path_is_an_input_error(publish_env: Path) -> None:
    (publish_env / "a-file").write_text("x")
    line = one_line_error(run_ml_ci("publish", "--html", "a-file/report.html", cwd=publish_env))
    assert "a-file" in line and "cannot write" in line and "folder" in line


def test_a_step_summary_that_is_a_folder_is_an_input_error(
    publish_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (publish_env / "summary-dir").mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(publish_env / "summary-dir"))
    line = one_line_error(run_ml_ci("publish", cwd=publish_env))
    assert "summary-dir" in line and "cannot write" in line
