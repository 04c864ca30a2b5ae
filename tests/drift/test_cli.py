"""``ml-ci drift`` end to end: files, path@ref (git and DVC), record, JSON, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from ml_ci.example import ExampleRepo
from ml_ci.record import load_record
from tests.drift.helpers import frames, run_cli, write


@pytest.fixture
def tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    monkeypatch.chdir(tmp_path)  # no ml-ci.yaml here: defaults
    return frames(n=3000)


def test_json_contract_and_record(tables, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    reference, current = tables
    current["score"] = current["score"] + 1.0
    write(reference, tmp_path / "ref.csv")
    write(current, tmp_path / "cur.parquet")
    run = run_cli(
        ["drift", "-r", "ref.csv", "-c", "cur.parquet", "--output", "rec.json", "--json"], capsys
    )
    assert run.code == 1  # significant
    payload = run.json()
    assert set(payload) >= {"columns", "quality", "share_drifted", "verdict"}
    assert payload["verdict"] == "significant"
    for column in payload["columns"]:
        assert set(column) >= {"column", "method", "value", "threshold", "drifted", "p_value"}
    for finding in payload["quality"]:
        assert set(finding) >= {"check", "column", "rows", "verdict"}
    assert [c["column"] for c in payload["columns"] if c["drifted"]] == ["score"]
    record = load_record(tmp_path / "rec.json")
    assert record.drift is not None and record.drift.verdict == "significant"
    assert record.needs_human
    assert "drift verdict significant" in run.err and "score" in run.err


def test_record_keeps_other_sections(tables, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    reference, current = tables
    write(reference, tmp_path / "ref.parquet")
    write(current, tmp_path / "cur.parquet")
    (tmp_path / "rec.json").write_text(
        '{"schema_version": 1, "model": "churn", "links": {"run": "x"}}', encoding="utf-8"
    )
    run = run_cli(
        ["drift", "-r", "ref.parquet", "-c", "cur.parquet", "--output", "rec.json"], capsys
    )
    assert run.code == 0
    assert "verdict: pass" in run.out
    record = load_record(tmp_path / "rec.json")
    assert record.model == "churn" and record.links == {"run": "x"}
    assert record.drift is not None and record.drift.verdict == "pass"
    assert not record.needs_human


def test_retrain_warns_and_fail_on_controls_the_exit(tables, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    reference, current = frames(n=20_000)
    current["score"] = current["score"] + 0.15
    write(reference, tmp_path / "ref.parquet")
    write(current, tmp_path / "cur.parquet")
    base = ["drift", "-r", "ref.parquet", "-c", "cur.parquet"]
    run = run_cli(base, capsys)
    assert run.code == 0
    assert "warning: drift verdict retrain" in run.err
    written = load_record(tmp_path / "ml-ci-record.json")  # the default record, as compare's
    assert written.drift is not None and written.drift.verdict == "retrain"
    assert run_cli([*base, "--fail-on", "retrain"], capsys).code == 1
    current["score"] = current["score"] + 1.0
    write(current, tmp_path / "cur.parquet")
    assert run_cli([*base, "--fail-on", "never"], capsys).code == 0
    assert run_cli(base, capsys).code == 1


def test_config_file_supplies_tables_and_settings(tables, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    reference, current = tables
    write(reference, tmp_path / "ref.csv")
    write(current, tmp_path / "cur.csv")
    (tmp_path / "ml-ci.yaml").write_text(
        "model: {name: churn}\n"
        "drift:\n  reference: ref.csv\n  current: cur.csv\n  exclude: [city]\n  id_column: id\n",
        encoding="utf-8",
    )
    run = run_cli(["drift", "--json"], capsys)
    assert run.code == 0, run.err
    assert [c["column"] for c in run.json()["columns"]] == ["income", "age", "score", "churned"]
    # a new record is named after the model: ml-ci watch keeps one issue per model
    assert load_record(tmp_path / "ml-ci-record.json").model == "churn"


@pytest.mark.parametrize(
    ("reference_text", "current_text", "message"),
    [
        ("a,b\n1,2\n3,4\n", "c,d\n1,2\n", "have no common columns"),
        ("a,b\n1,2\n3,4\n", "a,b\n", "cur.csv: the table is empty"),
        ("a,b\n1,2\n3,4\n", "", "cur.csv: the table is empty"),
        ("a,b\n1,2\n3,4\n", "a,b\n,2\n,4\n", "column 'a' has no values in cur.csv"),
        (
            "a,b\n1,2\n3,4\n",
            "a,b\nx,2\ny,4\n",
            "column 'a' is number in ref.csv but text in cur.csv",
        ),
    ],
)
def test_bad_inputs_exit_2_with_one_line(  # type: ignore[no-untyped-def]
    tables, tmp_path, capsys, reference_text, current_text, message
) -> None:
    (tmp_path / "ref.csv").write_text(reference_text, encoding="utf-8")
    (tmp_path / "cur.csv").write_text(current_text, encoding="utf-8")
    run = run_cli(["drift", "-r", "ref.csv", "-c", "cur.csv"], capsys)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err
    assert len(run.err.strip().splitlines()[-1]) < 300


def test_missing_file_bad_format_and_no_tables(tables, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ref.txt").write_text("a\n1\n", encoding="utf-8")
    run = run_cli(["drift", "-r", "nope.csv", "-c", "ref.txt"], capsys)
    assert run.code == 2 and "nope.csv: no such file" in run.err
    run = run_cli(["drift", "-r", "ref.txt", "-c", "ref.txt"], capsys)
    assert run.code == 2 and "unknown table format" in run.err
    run = run_cli(["drift"], capsys)
    assert run.code == 2 and "give --reference and --current" in run.err


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def test_git_tracked_file_at_a_ref(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    reference, current = frames(n=1000)
    write(reference, root / "data.csv")
    _git(root, "add", "data.csv")
    _git(root, "commit", "-q", "-m", "reference")
    current["city"] = "paris"
    write(current, root / "data.csv")
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")  # paths are relative to where ml-ci runs
    run = run_cli(["drift", "-r", "../data.csv@main", "-c", "../data.csv", "--json"], capsys)
    assert run.code == 1, run.err
    payload = run.json()
    assert payload["reference"] == "../data.csv@main"
    assert [c["column"] for c in payload["columns"] if c["drifted"]] == ["city"]
    run = run_cli(["drift", "-r", "../data.csv@nosuchref", "-c", "../data.csv"], capsys)
    assert run.code == 2 and "git ref 'nosuchref' not found" in run.err
    run = run_cli(["drift", "-r", "../other.csv@main", "-c", "../data.csv"], capsys)
    assert run.code == 2 and "../other.csv@main" in run.err


def test_example_candidate_shift_is_found_through_dvc(  # type: ignore[no-untyped-def]
    example_repo: ExampleRepo, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(example_repo.root)
    run = run_cli(
        ["drift", "--reference", "data/train.csv@main", "--current", "data/train.csv", "--json"],
        capsys,
    )
    assert run.code == 1, run.err  # the planted shift is significant
    payload = run.json()
    assert payload["reference"] == "data/train.csv@main"
    assert [c["column"] for c in payload["columns"] if c["drifted"]] == ["mean_texture"]
    assert "malignant" not in [c["column"] for c in payload["columns"]]  # excluded in ml-ci.yaml
    assert payload["verdict"] == "significant"
