"""``ml-ci init`` leaves a clean repository: ml-ci's outputs are ignored, the pre-commit
config it writes runs as written (real pre-commit, offline), and the release branch is the
remote's default branch."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from ml_ci.pack import init
from ml_ci.resources import templates_dir
from tests.pack.projects import sh, tool_env
from tests.pack.snapshot import PROJECT


def ml_ci(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", *args],
        cwd=root, capture_output=True, text=True, env=tool_env(),
    )  # fmt: skip


def test_default_branch_is_the_remotes_not_the_checked_out_one() -> None:
    assert init.default_branch("origin/trunk", ["trunk", "feature"], ["feature"], "") == "trunk"
    # no origin/HEAD (remote added by hand): the usual name among origin's branches
    assert init.default_branch("", ["feature", "master"], ["feature", "main"], "main") == "master"
    assert init.default_branch("", [], ["feature", "main"], "") == "main"
    assert init.default_branch("", [], ["feature"], "trunk") == "trunk"
    assert init.default_branch("", [], ["feature"], "") == "main"


def test_gitignore_adds_only_the_missing_lines() -> None:
    first = init.gitignore("/.venv\n/ml-ci-record.json\n")
    assert first is not None and first.startswith("/.venv\n/ml-ci-record.json\n\n")
    assert first.count("/ml-ci-record.json") == 1 and "/.ml-ci/" in first
    assert init.gitignore(first) is None  # a second init changes nothing
    assert set(init.IGNORED) <= set((init.gitignore(None) or "").splitlines())


def test_local_hooks_are_the_shipped_hooks_run_from_path() -> None:
    """The repo: local entry init writes matches .pre-commit-hooks.yaml hook for hook."""
    shipped = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    text = init.pre_commit_config(
        None, "acme/ml-ci@v2", (templates_dir() / "pre-commit" / "ml-ci-local.yaml").read_text()
    )
    assert text is not None and "https://github.com/acme/ml-ci" in text and "rev: v2" in text
    (entry,) = yaml.safe_load(text)["repos"]
    assert entry["repo"] == "local"
    keys = ("id", "name", "entry", "files", "types", "stages", "pass_filenames")
    by_id = {hook["id"]: hook for hook in shipped}
    # the four that need no configuration (ml-ci-catalog needs governance.catalog: opt-in)
    assert [h["id"] for h in entry["hooks"]] == [
        "ml-ci-config", "ml-ci-dvc-lock", "ml-ci-no-large-data", "ml-ci-determinism"
    ]  # fmt: skip
    for hook in entry["hooks"]:
        assert {k: hook.get(k) for k in keys} == {k: by_id[hook["id"]].get(k) for k in keys}
    assert {hook["language"] for hook in entry["hooks"]} == {"system"}


def test_init_leaves_a_clean_repository(own_project: Callable[[str], Path], tmp_path: Path) -> None:
    root = own_project("wine")
    # a remote whose default branch is trunk, added by hand (no origin/HEAD), work on feature
    sh(f"git init -q --bare {tmp_path / 'origin.git'}", tmp_path)
    sh("git branch -m main trunk", root)
    sh(f"git remote add origin {tmp_path / 'origin.git'} && git push -q origin trunk", root)
    sh("git fetch -q origin && git checkout -q -b feature", root)
    (root / ".gitignore").write_text("/notes.txt\n")
    sh("git add .gitignore && git commit -q -m ignore", root)

    done = ml_ci(root, "init", "--json")
    assert done.returncode == 0, done.stderr
    release = (root / ".github/workflows/ml-ci-release.yml").read_text()
    assert "branches: [trunk]" in release
    assert (
        yaml.safe_load((root / "ml-ci.yaml").read_text())["baseline"]["default_branch"] == "trunk"
    )
    assert (root / ".gitignore").read_text().startswith("/notes.txt\n")

    # the user follows init's next step, then uses ml-ci: nothing it writes shows up in git
    sh("git add -A && git commit -q -m 'Add ml-ci'", root)
    assert ml_ci(root, "baseline").returncode == 0
    assert ml_ci(root, "compare").returncode in (0, 1)
    assert ml_ci(root, "report", "--output", "ml-ci-report.md").returncode == 0
    assert (
        ml_ci(root, "report", "--format", "html", "--output", "ml-ci-report.html").returncode == 0
    )
    assert (root / "ml-ci-record.json").is_file() and (root / "baseline-predictions.csv").is_file()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True
    )
    assert status.stdout == ""

    # the pre-commit config runs as written: offline, the ml-ci on PATH
    env = {**tool_env(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PIP_FIND_LINKS", None)
    pre_commit = str(Path(sys.executable).parent / "pre-commit")
    run = subprocess.run(
        [pre_commit, "run", "--all-files"], cwd=root, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("ml-ci config is valid", "dvc.lock is up to date", "training code is seeded"):
        assert name in run.stdout and "Passed" in run.stdout
    # ...and finds problems: a stale dvc.lock fails the hook
    (root / "params.yaml").write_text(
        (root / "params.yaml").read_text().replace("C: 1.0", "C: 0.5")
    )
    stale = subprocess.run(
        [pre_commit, "run", "--all-files"], cwd=root, capture_output=True, text=True, env=env
    )
    assert stale.returncode == 1 and "dvc.lock is up to date" in stale.stdout
    assert "Failed" in stale.stdout and os.path.isfile(root / "dvc.lock")
