"""``ml-ci init`` on real git + DVC repositories, and its inference rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ml_ci.config import load_config
from ml_ci.example import ExampleRepo
from ml_ci.pack import init

STAGES = {
    "train": {"cmd": "python train.py", "outs": ["models/clf.joblib"], "metrics": [{"m.json": {"cache": False}}]},
    "score": {
        "cmd": "python score.py --model models/clf.joblib --data data/test.parquet --out out/predictions_test.parquet",
        "deps": ["score.py", "models/clf.joblib", "data/test.parquet", "data/test.parquet.meta"],
        "outs": ["out/predictions_test.parquet"],
    },
}  # fmt: skip


def test_inference_from_dvc_yaml() -> None:
    assert init.find_model(STAGES) == "models/clf.joblib"
    assert init.find_predictions(STAGES) == ("score", "out/predictions_test.parquet")
    command, data = init.guess_predict_command(
        STAGES["score"], "models/clf.joblib", "out/predictions_test.parquet"
    ) or ("", "")
    assert command == "python score.py --model {model} --data {data} --out {output}"
    assert data == "data/test.parquet"  # not the .meta file that starts with the same path


def test_no_guess_when_the_command_does_not_name_the_paths() -> None:
    stage = {"cmd": "python score.py", "deps": ["data/x.csv"], "outs": ["predictions.csv"]}
    assert init.guess_predict_command(stage, "model.pkl", "predictions.csv") is None
    config = init.infer_config(Path("/x/My Repo"), {"stages": {"s": stage}})
    assert config["model"]["name"] == "my-repo"
    assert "predict" not in config and config["predictions"]["path"] == "predictions.csv"


def test_remote_secrets() -> None:
    text = "[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://bucket/path\n"
    assert init.remote_secrets(text) == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert init.remote_secrets("['remote \"l\"']\n    url = ../store\n") == []


RUNBOOK_PAGES = (
    "README.md",
    "data-source-outage.md",
    "degraded-accuracy.md",
    "drift.md",
    "feature-pipeline-failure.md",
    "latency-regression.md",
    "rollback.md",
)


def test_live_adds_the_canary_and_monitor_workflows(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    (root / "ml-ci.yaml").unlink()
    done = _init(root, "--live", "--json")
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)["written"]
    assert {".github/workflows/ml-ci-canary.yml", ".github/workflows/ml-ci-monitor.yml"} <= set(
        written
    )


def _init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", "init", *args], cwd=root, capture_output=True, text=True
    )


def test_init_in_the_example(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    (root / "ml-ci.yaml").unlink()  # a repository that has never seen ml-ci
    done = _init(root, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["written"]) == {
        "ml-ci.yaml",
        ".pre-commit-config.yaml",
        ".gitignore",
        *(f".github/workflows/{name}" for name in init.WORKFLOWS),
        *(f"docs/runbooks/{page}" for page in RUNBOOK_PAGES),
    }
    # every runbook an incident can link is there
    from ml_ci.monitor.apply import RUNBOOKS

    assert set(RUNBOOKS.values()) | {"rollback.md"} <= set(RUNBOOK_PAGES)
    config = load_config(root / "ml-ci.yaml")  # what init wrote validates
    assert config.model.path == "models/model.pkl"
    assert config.predictions.path == "predictions.csv"
    assert (
        config.predict.command
        == "python src/predict.py --model {model} --data {data} --output {output}"
    )
    assert config.predict.data == "data/test.csv"
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    assert [h["id"] for h in hooks["repos"][0]["hooks"]] == [
        "ml-ci-config", "ml-ci-dvc-lock", "ml-ci-no-large-data", "ml-ci-determinism"
    ]  # fmt: skip
    assert result["required_checks"] == ["ml-ci/gates", "ml-ci/governance"]
    workflow = (root / ".github/workflows/ml-ci-pr.yml").read_text()
    assert "uses: ml-ci/ml-ci@v1" in workflow

    # never overwrites without --force; text output says what to do next
    (root / "ml-ci.yaml").write_text("# mine\n")
    again = _init(root)
    assert again.returncode == 0
    assert "kept    ml-ci.yaml" in again.stdout and "--force" in again.stdout
    assert "ml-ci/gates" in again.stdout and "git add" not in again.stdout
    assert (root / "ml-ci.yaml").read_text() == "# mine\n"
    forced = _init(
        root, "--force", "--action", "acme/ml-ci@0123456789abcdef0123456789abcdef01234567"
    )
    assert forced.returncode == 0, forced.stderr
    assert (root / "ml-ci.yaml").read_text() != "# mine\n"
    workflow = (root / ".github/workflows/ml-ci-comment.yml").read_text()
    assert "uses: acme/ml-ci/actions/report@0123456789abcdef0123456789abcdef01234567" in workflow
    # what init writes is as clean as the templates
    zizmor = Path(sys.executable).parent / "zizmor"
    audit = subprocess.run([str(zizmor), "--offline", "--no-progress", ".github/workflows"],
                           cwd=root, capture_output=True, text=True)  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_init_refuses_a_repository_without_dvc(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    done = _init(tmp_path)
    assert done.returncode == 2
    assert "dvc init" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ml-ci.yaml").exists()


@pytest.mark.parametrize("action", ["ml-ci", "owner/ml-ci", "@v1"])
def test_init_rejects_a_bad_action_reference(example_repo: ExampleRepo, action: str) -> None:
    done = _init(example_repo.root, "--action", action)
    assert done.returncode == 2 and "--action" in done.stderr
