"""User mistakes: each is exit 2 with ONE line on stderr naming the problem, no traceback.

Every case drives the real ``ml-ci`` command against real git/DVC state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ml_ci.dvcrepo import read_lock_at
from ml_ci.example import ExampleRepo
from tests.foundation.helpers import one_line_error, run_ml_ci

CONFIG_CASES = {
    "malformed-yaml": ("task: [binary\n", "malformed YAML"),
    "unknown-key": ("model:\n  nmae: x\n", "model.nmae: unknown key"),
    "wrong-type": ("repro:\n  runs: many\n", "repro.runs"),
    "bad-value": ("task: ranking\n", "task"),
    "bad-gate-metric": ("gates:\n  - metric: r2\n", "gates[0].metric"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config(case: str, tmp_path: Path) -> None:
    text, expected = CONFIG_CASES[case]
    (tmp_path / "ml-ci.yaml").write_text(text, encoding="utf-8")
    line = one_line_error(run_ml_ci("validate", cwd=tmp_path))
    assert "ml-ci.yaml" in line and expected in line


def test_missing_config(tmp_path: Path) -> None:
    line = one_line_error(run_ml_ci("validate", "--config", "nope.yaml", cwd=tmp_path))
    assert "nope.yaml" in line


def test_not_a_git_repo(tmp_path: Path) -> None:
    for command in ("pull", "repro"):
        line = one_line_error(run_ml_ci(command, cwd=tmp_path))
        assert "not a git repository" in line


def _git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def _dvc_init(path: Path) -> None:
    from dvc.repo import Repo

    Repo.init(str(path)).close()  # in-process: the same as `dvc init`, without a new interpreter


def test_not_a_dvc_repo(tmp_path: Path) -> None:
    _git_init(tmp_path)
    for command in ("pull", "repro"):
        line = one_line_error(run_ml_ci(command, cwd=tmp_path))
        assert "not a DVC repository" in line and "dvc init" in line


def test_no_remote(tmp_path: Path) -> None:
    _git_init(tmp_path)
    _dvc_init(tmp_path)
    line = one_line_error(run_ml_ci("pull", cwd=tmp_path))
    assert "no DVC remote configured" in line and "dvc remote add" in line


def test_no_committed_lock(tmp_path: Path) -> None:
    _git_init(tmp_path)
    _dvc_init(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo hi\n", encoding="utf-8")
    line = one_line_error(run_ml_ci("repro", cwd=tmp_path))
    assert "dvc.lock" in line


def test_unknown_remote_name(example_repo: ExampleRepo) -> None:
    line = one_line_error(run_ml_ci("pull", "--remote", "nope", cwd=example_repo.root))
    assert "'nope'" in line and "local" in line


def _drop_local_data(root: Path) -> None:
    shutil.rmtree(root / ".dvc" / "cache")
    (root / "models" / "model.pkl").unlink()


def test_missing_remote_object(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    lock = read_lock_at(root, "HEAD")
    assert lock is not None
    model = next(out for out in lock.outs() if out.path == "models/model.pkl")
    assert model.hash is not None
    _drop_local_data(root)
    (example_repo.dvc_remote / "files" / "md5" / model.hash[:2] / model.hash[2:]).unlink()
    line = one_line_error(run_ml_ci("pull", cwd=root))
    assert "models/model.pkl" in line and "dvc push" in line


def test_unreachable_remote(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    _drop_local_data(root)
    example_repo.dvc_remote.rename(example_repo.workdir / "moved-away")
    line = one_line_error(run_ml_ci("pull", cwd=root))
    assert "'local'" in line and "does not exist" in line


def test_unknown_target(example_repo: ExampleRepo) -> None:
    line = one_line_error(run_ml_ci("repro", "trian", cwd=example_repo.root))
    assert "'trian'" in line and "prepare, train, predict" in line


def test_bad_record_json(tmp_path: Path) -> None:
    (tmp_path / "record.json").write_text("{not json", encoding="utf-8")
    line = one_line_error(run_ml_ci("record", "show", "record.json", cwd=tmp_path))
    assert "record.json" in line and "JSON" in line


def test_record_with_wrong_schema_version(tmp_path: Path) -> None:
    (tmp_path / "record.json").write_text(json.dumps({"schema_version": 99}), encoding="utf-8")
    line = one_line_error(run_ml_ci("record", "validate", "record.json", cwd=tmp_path))
    assert "schema_version 99" in line


def test_record_with_unknown_key(tmp_path: Path) -> None:
    data = {"schema_version": 1, "repro": {"verdict": "verified", "colour": "green"}}
    (tmp_path / "record.json").write_text(json.dumps(data), encoding="utf-8")
    line = one_line_error(run_ml_ci("record", "validate", "record.json", cwd=tmp_path))
    assert "repro.colour" in line


def test_missing_record(tmp_path: Path) -> None:
    line = one_line_error(run_ml_ci("record", "show", cwd=tmp_path))
    assert "ml-ci-record.json" in line


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    line = one_line_error(run_ml_ci("demo", "--dir", str(tmp_path), cwd=tmp_path))
    assert "not empty" in line
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_repro_without_pulled_input_data(example_repo: ExampleRepo) -> None:
    (example_repo.root / "data" / "raw.csv").unlink()
    line = one_line_error(run_ml_ci("repro", cwd=example_repo.root))
    assert "data/raw.csv" in line and "ml-ci pull" in line
