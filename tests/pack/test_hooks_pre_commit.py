"""Every hook in .pre-commit-hooks.yaml, run by real pre-commit on a pass and a fail example.

``pre-commit try-repo`` installs this project (a committed snapshot of the working tree) into a
hook environment, exactly as a user's pre-commit would. Offline trick (tests only): pip installs
ml-ci without dependencies (PIP_NO_DEPS) and the hook finds click/pyyaml/pydantic through
PYTHONPATH pointing at this project's venv; ml_ci itself comes from the hook environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.pack.snapshot import PROJECT, copy_tree_into_repo, snapshot_project

EXAMPLES = PROJECT / "tests" / "hook_examples"
HOOK_IDS = [hook["id"] for hook in yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_project(tmp_path_factory.mktemp("ml-ci-snapshot") / "ml-ci")


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["PIP_NO_DEPS"] = "1"
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def _example(hook_id: str, outcome: str, tmp_path: Path) -> Path:
    """A committed git repo holding the example's files (big files generated, not stored)."""
    source = EXAMPLES / hook_id / outcome
    staging = tmp_path / f"{hook_id}-{outcome}"
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("_generate.json"))
    spec = source / "_generate.json"  # {"path": size_in_bytes}
    if spec.is_file():
        for name, size in json.loads(spec.read_text()).items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(bytes(range(256)) * (size // 256))
    return copy_tree_into_repo(staging, tmp_path / f"{hook_id}-{outcome}-repo")


def test_every_hook_has_a_pass_and_a_fail_example() -> None:
    assert HOOK_IDS, ".pre-commit-hooks.yaml lists no hooks"
    for hook_id in HOOK_IDS:
        for outcome in ("pass", "fail"):
            folder = EXAMPLES / hook_id / outcome
            assert folder.is_dir() and any(folder.rglob("*")), f"missing example {folder}"


def test_manifest_validates() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


EXPECTED_IN_FAILURE = {
    "ml-ci-config": "gates[0].metric",
    "ml-ci-dvc-lock": "param train.C is 2.0 in params.yaml but 0.5 in dvc.lock",
    "ml-ci-no-large-data": "models/model.pkl",
    "ml-ci-determinism": "RandomForestClassifier() without random_state",
    "ml-ci-catalog": "import source https://files.attacker.example/raw.csv is not approved",
}


def _try_repo(hook_repo: Path, hook_id: str, repo: Path, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook_id,
         "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_hook_passes_and_fails_through_pre_commit_try_repo(
    hook_id: str, hook_repo: Path, pre_commit_env: dict[str, str], tmp_path: Path
) -> None:
    code, output = _try_repo(
        hook_repo, hook_id, _example(hook_id, "pass", tmp_path), pre_commit_env
    )
    assert code == 0, f"{hook_id} should pass on its pass example:\n{output}"
    assert "Passed" in output, output
    code, output = _try_repo(
        hook_repo, hook_id, _example(hook_id, "fail", tmp_path), pre_commit_env
    )
    assert code == 1, f"{hook_id} should fail on its fail example:\n{output}"
    assert "Failed" in output, output
    assert EXPECTED_IN_FAILURE[hook_id] in output, output
