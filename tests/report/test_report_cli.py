"""``ml-ci report`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.cli import main
from ml_ci.record import save_record
from tests.report.records import demo_record


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ml-ci-record.json"
    save_record(path, demo_record())
    return path


def test_markdown_to_stdout(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 0
    assert capsys.readouterr().out.startswith("## ml-ci: churn\n\n**❌ FAIL**")


@pytest.mark.parametrize("fmt", ["html", "summary", "markdown"])
def test_output_file_and_json(record: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = record.parent / "out" / f"report.{fmt}"
    assert main(["report", "--format", fmt, "--output", str(target), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "fail" and payload["chars"] == len(target.read_text())


def test_title_and_templates_from_config(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = record.parent / "tpl"
    folder.mkdir()
    (folder / "summary.md.j2").write_text(
        '{% extends "ml-ci/summary.md.j2" %}{% block links %}custom footer{% endblock %}'
    )
    (record.parent / "ml-ci.yaml").write_text(
        "report:\n  title: Churn model\n  template_dir: tpl\n"
    )
    assert main(["report", "--format", "summary"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### Churn model") and out.rstrip().endswith("custom footer")


def test_missing_record_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--record", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert "none.json" in err and "Traceback" not in err
