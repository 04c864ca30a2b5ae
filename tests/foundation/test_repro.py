"""``ml-ci repro`` on the real example: verified, tampered, uncommitted change,
non-deterministic, tolerance mode; and the record sections it writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ml_ci import gitutil
from ml_ci.dvcrepo import file_md5, read_lock_at
from ml_ci.example import ExampleRepo
from ml_ci.record import load_record
from ml_ci.repro import PINNED_ENV, flatten_metrics, within
from tests.foundation.helpers import run_ml_ci

TIME_SEED = "import time\nseed = time.time_ns() % 2**32  # not reproducible on purpose\n"


def _model_hash(root: Path, rev: str) -> str:
    lock = read_lock_at(root, rev)
    assert lock is not None
    entry = next(out for out in lock.outs() if out.path == "models/model.pkl")
    assert entry.hash is not None
    return entry.hash


def _seed_from_time(root: Path) -> None:
    train = root / "src" / "train.py"
    text = train.read_text(encoding="utf-8")
    assert 'seed = params["seed"]\n' in text
    train.write_text(text.replace('seed = params["seed"]\n', TIME_SEED), encoding="utf-8")


def test_repro_verifies_and_writes_the_record(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    done = run_ml_ci("repro", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["verdict"] == "verified"
    assert {check["path"] for check in payload["outputs"]} == {
        "data/train.csv", "data/test.csv", "models/model.pkl", "metrics.json", "predictions.csv",
    }  # fmt: skip
    assert gitutil.git(["status", "--porcelain"], root) == ""  # outputs recomputed identically

    record = load_record(root / "ml-ci-record.json")
    assert record.repro is not None and record.repro.verdict == "verified"
    assert record.repro.env["SOURCE_DATE_EPOCH"] == gitutil.git(["log", "-1", "--format=%ct"], root)
    assert record.repro.env["OMP_NUM_THREADS"] == "1"
    assert record.repo.head_sha == example_repo.candidate_sha
    assert record.repo.base_sha == example_repo.main_sha
    assert (record.repo.head_ref, record.repo.base_ref) == ("candidate", "main")
    assert record.model == "breast-cancer"
    assert record.artifact is not None
    assert record.artifact.hash == _model_hash(root, "HEAD") == file_md5(root / "models/model.pkl")
    assert record.lineage is not None
    changes = {(c.file, c.key): (c.base, c.head) for c in record.lineage.params_diff}
    assert changes == {("params.yaml", "train.C"): (1.0, 0.5)}
    data = {entry.path: entry for entry in record.lineage.deps if entry.kind == "data"}
    assert data["data/raw.csv"].hash == file_md5(root / "data/raw.csv")  # from data/raw.csv.dvc
    consumers = {e.stage for e in record.lineage.deps if e.path == "data/train.csv"}
    assert consumers == {"train"}
    assert record.lineage.params["params.yaml"]["seed"] == 42


def test_tampered_model_is_named_and_kept(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    model = root / "models" / "model.pkl"
    tampered = model.read_bytes() + b"tampered"
    model.write_bytes(tampered)
    done = run_ml_ci("repro", "train", cwd=root)
    assert done.returncode == 1, done.stderr
    assert "models/model.pkl" in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
    backup = root / ".dvc" / "tmp" / "ml-ci-backup" / "models" / "model.pkl"
    assert backup.read_bytes() == tampered
    record = load_record(root / "ml-ci-record.json")
    assert record.repro is not None and record.repro.verdict == "mismatch"
    assert [check.path for check in record.repro.outputs if not check.match] == ["models/model.pkl"]


def test_uncommitted_change_fails_and_committed_outputs_restore(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    params = root / "params.yaml"
    params.write_text(params.read_text().replace("C: 0.5", "C: 0.05"), encoding="utf-8")
    done = run_ml_ci("repro", "--json", "train", cwd=root)
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    failed = {check["path"] for check in payload["outputs"] if not check["match"]}
    assert "models/model.pkl" in failed and "data/train.csv" not in failed
    assert file_md5(root / "models/model.pkl") != _model_hash(root, "HEAD")
    # the printed restore command brings back exactly the committed outputs
    assert payload["restore"] in done.stderr
    subprocess.run(payload["restore"].replace("dvc checkout", "python -m dvc checkout -q"),
                   shell=True, cwd=root, check=True, capture_output=True,
                   env=_with_venv_path())  # fmt: skip
    assert file_md5(root / "models/model.pkl") == _model_hash(root, "HEAD")


def _with_venv_path() -> dict[str, str]:
    from ml_ci.dvcrepo import dvc_env

    return dvc_env()


def test_time_seeded_training_is_nondeterministic(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    _seed_from_time(root)
    done = run_ml_ci("repro", "--runs", "2", "train", cwd=root)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "not deterministic" in last and "models/model.pkl" in last
    record = load_record(root / "ml-ci-record.json")
    assert record.repro is not None and record.repro.verdict == "nondeterministic"
    assert record.repro.stages == ["prepare", "train"]


def test_tolerance_mode_accepts_equal_metrics(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    _seed_from_time(root)  # model bytes change; its test metrics do not move beyond 1e-3
    config = root / "ml-ci.yaml"
    config.write_text(
        config.read_text().replace(
            "repro:\n  runs: 1\n",
            "repro:\n  runs: 2\n  tolerance:\n    metrics: [metrics.json]\n    abs: 0.001\n",
        ),
        encoding="utf-8",
    )
    done = run_ml_ci("repro", "--json", "train", cwd=root)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["verdict"] == "within_tolerance" and payload["mode"] == "tolerance"
    metrics = {check["path"] for check in payload["outputs"] if ":" in check["path"]}
    assert metrics == {"metrics.json:accuracy", "metrics.json:roc_auc"}


def test_within_matches_numpy_isclose() -> None:
    rng = np.random.default_rng(0)
    for expected, actual in rng.normal(size=(200, 2)):
        for abs_tol, rel_tol in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.3), (0.2, 0.2)):
            assert within(float(expected), float(actual), abs_tol, rel_tol) == bool(
                np.isclose(actual, expected, rtol=rel_tol, atol=abs_tol)
            )


def test_flatten_metrics_nested_json() -> None:
    data = json.dumps({"test": {"auc": 0.9, "n": 10}, "ok": True, "name": "x"}).encode()
    assert flatten_metrics(data, "m.json") == {"test.auc": 0.9, "test.n": 10.0}


def test_pinned_environment_is_complete() -> None:
    assert PINNED_ENV["PYTHONHASHSEED"] == "0"
    assert PINNED_ENV["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    for name in ("OMP", "MKL", "OPENBLAS", "NUMEXPR"):
        assert PINNED_ENV[f"{name}_NUM_THREADS"] == "1"
    assert PINNED_ENV["VECLIB_MAXIMUM_THREADS"] == "1"
    assert (PINNED_ENV["TZ"], PINNED_ENV["LC_ALL"]) == ("UTC", "C.UTF-8")


def test_recorded_environment_hides_secrets() -> None:
    from ml_ci.repro import redact

    shown = redact({"HF_TOKEN": "hf_abc", "AWS_SECRET_ACCESS_KEY": "x", "OMP_NUM_THREADS": "1"})
    assert shown == {"HF_TOKEN": "***", "AWS_SECRET_ACCESS_KEY": "***", "OMP_NUM_THREADS": "1"}


def test_repo_info_reads_github_variables(
    example_repo: ExampleRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_ci.lineage import find_base
    from ml_ci.repro import repo_info

    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_HEAD_REF", "feature")
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    base = find_base(example_repo.root, ref=None, default_branch="main")
    info = repo_info(example_repo.root, base)
    assert (info.name, info.pull_request) == ("acme/models", 7)
    assert info.run_url == "https://github.example/acme/models/actions/runs/42"
    assert (info.head_ref, info.base_ref) == ("feature", "main")
    assert info.base_sha == example_repo.main_sha
    assert find_base(example_repo.root, ref=None, default_branch="trunk") is None


def test_a_mismatch_line_is_short_and_names_each_hash_once(example_repo: ExampleRepo) -> None:
    import re

    root = example_repo.root
    model = root / "models" / "model.pkl"
    model.write_bytes(model.read_bytes() + b"tampered")  # a pre-run and a post-run problem
    params = root / "params.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("seed: 42", "seed: 7"))
    done = run_ml_ci("repro", cwd=root)
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert len(line) < 300, (len(line), line)
    assert "models/model.pkl" in line and "5 outputs" in line, line
    hashes = re.findall(r"[0-9a-f]{8,}", line)
    assert hashes and len(hashes) == len(set(hashes)), line  # no hash pair repeated
    record = load_record(root / "ml-ci-record.json")
    assert record.repro is not None and record.repro.restore  # the full details stay there
    assert all(c.detail for c in record.repro.outputs if not c.match)
