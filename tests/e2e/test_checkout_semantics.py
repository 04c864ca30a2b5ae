"""The act tests' GitHub side behaves like GitHub's: the runner's test-merge refs and the
checkout stand-in's clone (tests/e2e/runner.py, tests/e2e/stand-ins/checkout), checked with
real git and without act (the stand-in's script runs as Actions would run it: bash, inputs
as environment variables).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.runner import GitHubRepo, git

STAND_IN = Path(__file__).resolve().parent / "stand-ins" / "checkout" / "action.yml"
SCRIPT: str = yaml.safe_load(STAND_IN.read_text(encoding="utf-8"))["runs"]["steps"][0]["run"]
REPOSITORY = "acme/models"


def _commit(repo: Path, name: str) -> str:
    (repo / name).write_text(f"{name}\n", encoding="utf-8")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def github(tmp_path: Path) -> tuple[GitHubRepo, Path]:
    """A bare repository (main: two commits and tag v1; feature: one commit off main's first)
    and the developer's clone that pushed it."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    dev = tmp_path / "dev"
    git(tmp_path, "clone", "-q", str(origin), str(dev))
    for key, value in (("user.name", "dev"), ("user.email", "dev@example.invalid")):
        git(dev, "config", key, value)
    first = _commit(dev, "a.txt")
    _commit(dev, "b.txt")
    git(dev, "tag", "v1")
    git(dev, "checkout", "-q", "-b", "feature", first)
    _commit(dev, "c.txt")
    git(dev, "push", "-q", "origin", "main", "feature", "v1")
    return GitHubRepo(origin), dev


def _checkout(
    workspace: Path,
    origin: GitHubRepo,
    *,
    event_ref: str,
    event_sha: str,
    ref: str = "",
    depth: str = "1",
    persist: str = "true",
) -> Path:
    workspace.mkdir(exist_ok=True)
    outputs = workspace.parent / f"{workspace.name}.outputs"
    env = dict(os.environ)
    env.update(
        GITHUB_WORKSPACE=str(workspace), GITHUB_REPOSITORY=REPOSITORY,
        GITHUB_SERVER_URL="https://github.com", GITHUB_REF=event_ref, GITHUB_SHA=event_sha,
        GITHUB_OUTPUT=str(outputs), ML_CI_E2E_ORIGIN=str(origin.path),
        GITHUB_ACTION_PATH=str(STAND_IN.parent), REPOSITORY=REPOSITORY, REF=ref, DEPTH=depth,
        PERSIST=persist, TOKEN="ghs_e2e", TARGET="",
    )  # fmt: skip
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", SCRIPT],
        cwd=workspace.parent, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return workspace


def _is_detached(repo: Path) -> bool:
    done = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=repo, capture_output=True)
    return done.returncode != 0


def test_pull_request_checks_out_the_test_merge(
    github: tuple[GitHubRepo, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, _ = github
    head, base = origin.tip("feature"), origin.tip("main")
    merge = origin.test_merge(7, head, "main")
    assert origin.parents(merge) == [base, head]
    assert origin.rev("refs/pull/7/head") == head and origin.rev("refs/pull/7/merge") == merge
    # a merge made later would have another date, so another SHA: this one must be kept
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2030-01-01T00:00:00Z")
    assert origin.test_merge(7, head, "main") == merge, "kept while neither side moves"
    monkeypatch.delenv("GIT_COMMITTER_DATE")

    clone = _checkout(
        tmp_path / "ws", origin, event_ref="refs/pull/7/merge", event_sha=merge, depth="0"
    )
    assert git(clone, "rev-parse", "HEAD") == merge and _is_detached(clone)
    assert git(clone, "config", "remote.origin.url") == f"https://github.com/{REPOSITORY}"
    assert git(clone, "rev-parse", "refs/remotes/pull/7/merge") == merge
    assert git(clone, "rev-parse", "refs/remotes/origin/main") == base
    assert git(clone, "tag", "--list") == "v1"  # fetch-depth 0: all branches and tags
    assert (clone / "c.txt").is_file() and (clone / "b.txt").is_file()  # head and base
    outputs = (tmp_path / "ws.outputs").read_text(encoding="utf-8")
    assert f"commit={merge}" in outputs.splitlines()


def test_base_moving_makes_a_new_test_merge(github: tuple[GitHubRepo, Path]) -> None:
    origin, dev = github
    head = origin.tip("feature")
    first = origin.test_merge(7, head, "main")
    git(dev, "checkout", "-q", "main")
    moved = _commit(dev, "d.txt")
    git(dev, "push", "-q", "origin", "main")
    second = origin.test_merge(7, head, "main")
    assert second != first and origin.parents(second) == [moved, head]


def test_fetch_depth_one_is_shallow_without_tags(
    github: tuple[GitHubRepo, Path], tmp_path: Path
) -> None:
    origin, _ = github
    merge = origin.test_merge(7, origin.tip("feature"), "main")
    clone = _checkout(tmp_path / "ws", origin, event_ref="refs/pull/7/merge", event_sha=merge)
    assert git(clone, "rev-parse", "HEAD") == merge
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    assert git(clone, "rev-list", "--count", "HEAD") == "1"
    assert git(clone, "tag", "--list") == ""


def test_push_checks_out_the_branch_at_the_pushed_commit(
    github: tuple[GitHubRepo, Path], tmp_path: Path
) -> None:
    origin, _ = github
    tip = origin.tip("main")
    clone = _checkout(tmp_path / "ws", origin, event_ref="refs/heads/main", event_sha=tip)
    assert git(clone, "rev-parse", "HEAD") == tip
    assert git(clone, "symbolic-ref", "HEAD") == "refs/heads/main"


def test_explicit_branch_ref_checks_out_that_branch(
    github: tuple[GitHubRepo, Path], tmp_path: Path
) -> None:
    origin, _ = github
    merge = origin.test_merge(7, origin.tip("feature"), "main")
    clone = _checkout(
        tmp_path / "ws", origin, event_ref="refs/pull/7/merge", event_sha=merge, ref="main"
    )
    assert git(clone, "rev-parse", "HEAD") == origin.tip("main")
    assert git(clone, "symbolic-ref", "HEAD") == "refs/heads/main"


def test_push_needs_credentials(github: tuple[GitHubRepo, Path], tmp_path: Path) -> None:
    """Persisted (the header in .git/config), or given to the one command (GIT_CONFIG_*)."""
    origin, _ = github
    tip = origin.tip("main")
    kept = _checkout(tmp_path / "kept", origin, event_ref="refs/heads/main", event_sha=tip)
    assert "AUTHORIZATION: basic " in git(kept, "config", "http.https://github.com/.extraheader")
    git(kept, "push", "-q", "origin", "HEAD:refs/tags/pushed")
    assert origin.rev("refs/tags/pushed") == tip
    dropped = _checkout(
        tmp_path / "dropped", origin, event_ref="refs/heads/main", event_sha=tip, persist="false"
    )
    git(dropped, "fetch", "-q", "origin", "main")  # reads need none
    with pytest.raises(AssertionError, match="denied: no credentials"):
        git(dropped, "push", "-q", "origin", "HEAD:refs/tags/refused")
    header = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_0": "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2UyZQ==",
    }
    git(dropped, "push", "-q", "origin", "HEAD:refs/tags/given", env={**os.environ, **header})
    assert origin.rev("refs/tags/given") == tip


def test_an_unpushed_head_is_refused(github: tuple[GitHubRepo, Path]) -> None:
    origin, dev = github
    local = _commit(dev, "e.txt")  # committed, never pushed
    with pytest.raises(AssertionError, match="git push the branch"):
        origin.test_merge(7, local, "main")
