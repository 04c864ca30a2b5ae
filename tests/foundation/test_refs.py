"""One git-ref resolver (``ml_ci.gitutil.resolve_ref``): its order, its pin, its one error, and
every ``path@ref`` / ``--ref`` / default-branch lookup going through it in a CI-style clone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ml_ci import gitutil
from ml_ci.dvcrepo import run_dvc
from ml_ci.errors import InputError
from ml_ci.example import ExampleRepo
from ml_ci.lineage import find_base
from tests.foundation.helpers import run_ml_ci


def _commit(root: Path, message: str) -> str:
    gitutil.git(["commit", "-q", "--allow-empty", "-m", message], root)
    return gitutil.git(["rev-parse", "HEAD"], root)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repo with commits a-b-c on main, a remote-only branch and a tag, like a CI clone."""
    origin = tmp_path / "origin"
    gitutil.git(["init", "-q", "-b", "main", str(origin)], tmp_path)
    _commit(origin, "a")
    gitutil.git(["tag", "v1"], origin)
    _commit(origin, "b")
    gitutil.git(["branch", "release"], origin)
    _commit(origin, "c")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(origin), str(clone)], check=True)
    return clone


def test_order_local_branch_remote_branch_tag_sha(repo: Path) -> None:
    head = gitutil.git(["rev-parse", "HEAD"], repo)
    release = gitutil.git(["rev-parse", "origin/release"], repo)
    tagged = gitutil.git(["rev-parse", "v1^{commit}"], repo)
    assert gitutil.resolve_ref(repo, "main") == head
    # only refs/remotes/origin/release exists: a CI clone of one branch
    found = gitutil.lookup_ref(repo, "release")
    assert (found.sha, found.found) == (release, "refs/remotes/origin/release")
    assert gitutil.resolve_ref(repo, "v1") == tagged
    assert gitutil.resolve_ref(repo, release[:9]) == release  # a unique abbreviated SHA
    assert gitutil.resolve_ref(repo, "HEAD~1") == release
    # a local branch wins over the remote-tracking one of the same name
    gitutil.git(["branch", "release", tagged], repo)
    assert gitutil.lookup_ref(repo, "release").found == "refs/heads/release"
    assert gitutil.resolve_ref(repo, "release") == tagged
    # ... and over a tag of the same name
    gitutil.git(["tag", "main", tagged], repo)
    assert gitutil.resolve_ref(repo, "main") == head


def test_head_is_the_checkout_never_the_remotes_head(repo: Path) -> None:
    """A clone has ``refs/remotes/origin/HEAD``: ``HEAD`` (``--commit``'s default) and
    ``HEAD~1`` are the checked-out commit's, not the remote's default branch's."""
    assert gitutil.git(["rev-parse", "--verify", "refs/remotes/origin/HEAD"], repo)
    gitutil.git(["checkout", "-q", "--detach", "HEAD~1"], repo)  # b, origin/HEAD stays at c
    here = gitutil.git(["rev-parse", "HEAD"], repo)
    below = gitutil.git(["rev-parse", "HEAD~1"], repo)
    assert gitutil.resolve_ref(repo, "HEAD") == here
    assert gitutil.resolve_ref(repo, "HEAD~1") == below
    assert gitutil.resolve_ref(repo, "HEAD^") == below


def test_pin_wins_over_everything(repo: Path) -> None:
    first_parent = gitutil.git(["rev-parse", "HEAD~1"], repo)
    assert gitutil.resolve_ref(repo, "main", pin={"main": first_parent}) == first_parent
    assert gitutil.resolve_ref(repo, "v1", pin={"main": first_parent}) != first_parent
    with pytest.raises(InputError, match=r"pinned to '0{40}'"):
        gitutil.resolve_ref(repo, "main", pin={"main": "0" * 40})


def test_one_error_names_the_ref_and_what_to_fetch(repo: Path) -> None:
    for name in ("trunk", "-h", "deadbeef00"):
        with pytest.raises(InputError) as caught:
            gitutil.resolve_ref(repo, name, what="baseline.ref")
        message = str(caught.value)
        assert message.startswith(f"baseline.ref {name!r}"), message
        assert "\n" not in message
    assert "git fetch origin trunk" in _message(repo, "trunk")


def _message(repo: Path, name: str) -> str:
    with pytest.raises(InputError) as caught:
        gitutil.resolve_ref(repo, name)
    return str(caught.value)


def test_find_base_in_a_ci_clone_and_with_a_pin(repo: Path) -> None:
    gitutil.git(["checkout", "-q", "-b", "candidate"], repo)
    _commit(repo, "d")
    gitutil.git(["branch", "-D", "main"], repo)  # like `git clone -b candidate`
    base = find_base(repo, ref=None, default_branch="main")
    assert base is not None
    assert (base.sha, base.ref) == (gitutil.git(["rev-parse", "origin/main"], repo), "origin/main")
    parent = gitutil.git(["rev-parse", "origin/main~1"], repo)
    pinned = find_base(repo, ref=None, default_branch="main", pin={"main": parent})
    assert pinned is not None and pinned.sha == parent
    assert find_base(repo, ref=None, default_branch="trunk") is None


@pytest.fixture
def ci_clone(example_repo: ExampleRepo) -> Path:
    """``git clone -b candidate`` of the example: only ``origin/main`` names the base, the
    DVC data is pulled (the clone sits beside repo/, so the relative DVC remote resolves)."""
    clone = example_repo.workdir / "ci-clone"
    subprocess.run(
        ["git", "clone", "-q", "-b", "candidate", str(example_repo.git_remote), str(clone)],
        check=True,
    )
    assert gitutil.git(["branch", "--list", "main"], clone) == ""
    run_dvc(["pull", "-q"], clone)
    return clone


def test_drift_and_baseline_with_main_in_a_ci_clone(ci_clone: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    drift = run_ml_ci(
        "drift", "-r", "data/train.csv@main", "-c", "data/train.csv",
        "--output", str(record), "--json", "--fail-on", "never",
        cwd=ci_clone,
    )  # fmt: skip
    assert drift.returncode == 0, drift.stderr
    section = json.loads(drift.stdout)
    assert section["reference"] == "data/train.csv@main"
    shifted = {c["column"]: c["drifted"] for c in section["columns"]}
    assert shifted["mean_texture"] is True  # the candidate's planted shift, so main was read
    main_sha = gitutil.git(["rev-parse", "origin/main"], ci_clone)
    for args in (["--ref", "main"], []):
        done = run_ml_ci("baseline", *args, "--output", str(tmp_path / "b.csv"), "--json",
                         cwd=ci_clone)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["commit"] == main_sha
    wrong = run_ml_ci("drift", "-r", "data/train.csv@trunk", "-c", "data/train.csv", cwd=ci_clone)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    line = wrong.stderr.strip().splitlines()[-1]  # after the progress line
    assert "'trunk'" in line and "git fetch origin trunk" in line, line
