"""The release checks its own scoring environment against the merged commit (issue 15.6).

Real git, DVC and predict.command on the example; the lock file is this very environment's
``pip freeze``, so "matches" is a fact of the machine, and one changed pin makes it false.
The pull request's record claims a fingerprint; the release shows it and never uses it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci.config import load_config
from ml_ci.example import ExampleRepo
from ml_ci.fingerprint import fingerprint, installed_versions, record_environment
from ml_ci.record import EnvironmentSection, load_record, save_record
from tests.release.helpers import remote_tag_names, run
from tests.release.records import write_record
from tests.release.test_recompute import MODEL, cli, edit_config, merge

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def frozen() -> str:
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture
def repo(example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch) -> ExampleRepo:
    """main (the first parent) requires the lock file and the Python version."""
    monkeypatch.chdir(example_repo.root)
    root = example_repo.root
    run(["git", "checkout", "-q", "main"], root)
    edit_config(
        root,
        {
            "governance": {"approvers": ["alice"], "require": "flagged"},
            "release": {"require_fingerprint": ["lockfile", "python"]},
        },
    )
    run(["git", "commit", "-q", "-am", "release: require the environment"], root)
    run(["git", "checkout", "-q", example_repo.candidate_branch], root)
    run(["git", "merge", "-q", "--no-edit", "main"], root)
    return example_repo


def pull_request(repo: ExampleRepo, tmp_path: Path, requirements: str, python: str) -> Path:
    """Commit the lock files on the candidate, write its record, merge it."""
    (repo.root / "requirements.txt").write_text(requirements, encoding="utf-8")
    (repo.root / ".python-version").write_text(python + "\n", encoding="utf-8")
    run(["git", "add", "requirements.txt", ".python-version"], repo.root)
    run(["git", "commit", "-q", "-m", "lock the environment"], repo.root)
    head = run(["git", "rev-parse", "HEAD"], repo.root)
    record = tmp_path / "record.json"
    write_record(repo.root, head, record, pull_request=11)
    merge(repo)
    return record


def release(capsys: pytest.CaptureFixture[str], record: Path) -> tuple[int, str, str]:
    return cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record), "--json"
    )


def test_a_package_that_differs_from_the_merged_lock_file_refuses_the_release(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    numpy = installed_versions()["numpy"]
    lines = frozen().replace(f"numpy=={numpy}\n", "numpy==1.0.0\n")
    assert "numpy==1.0.0" in lines
    record = pull_request(repo, tmp_path, lines, PYTHON)
    before = remote_tag_names(repo.git_remote)
    code, out, err = release(capsys, record)
    assert code == 1, err
    refusal = err.strip().splitlines()[-1]
    assert "release.require_fingerprint" in refusal and "lockfile: requirements.txt" in refusal
    assert f"numpy==1.0.0 (installed: {numpy})" in refusal and out == ""
    assert remote_tag_names(repo.git_remote) == before
    assert run(["git", "tag", "-l", f"{MODEL}@*"], repo.root) == ""


def test_a_python_other_than_the_declared_one_refuses_the_release(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = pull_request(repo, tmp_path, frozen(), "3.1")
    code, _out, err = release(capsys, record)
    assert code == 1, err
    found = fingerprint(repo.root)["python"]
    assert f"python: .python-version says 3.1, this environment has {found}" in err


def test_a_matching_environment_is_released_and_a_forged_claim_changes_nothing(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = pull_request(repo, tmp_path, frozen(), PYTHON)
    claim = load_record(record)
    forged = "<img src=x onerror=alert(1)> @admin [x](https://evil.example) | `"
    claim.environment = EnvironmentSection(
        python="2.7.18", lockfile="requirements.txt:sha256:" + "0" * 64, platform=forged
    )
    save_record(record, claim)
    code, _out, err = release(capsys, record)
    assert code == 0, err
    carried = load_record(record.with_name("ml-ci-record.release.json"))
    own = carried.environment
    assert own is not None and own.role == "release" and own.required == ["lockfile", "python"]
    here = fingerprint(repo.root)
    assert own.python == here["python"] and own.lockfile == here["lockfile"]
    assert own.claimed is not None and own.claimed.python == "2.7.18"
    assert own.claimed.platform == forged  # shown (escaped where rendered), not used
    # the version tag carries the release's own fingerprint: the next pull request's base
    tag = run(["git", "tag", "-l", f"{MODEL}@*"], repo.root).splitlines()[0]
    message = run(["git", "tag", "-l", "--format=%(contents)", tag], repo.root)
    assert f"python={here['python']}" in message and "2.7.18" not in message
    merged = run(["git", "rev-parse", "HEAD"], repo.root)
    config = load_config(repo.root / "ml-ci.yaml")
    base = record_environment(repo.root, config, merged).base
    assert base is not None and base.source.startswith(f"the release tag of {MODEL} ")
    assert base.python == here["python"] and base.lockfile == here["lockfile"]


def test_the_release_notes_show_both_fingerprints_escaped(
    repo: ExampleRepo, tmp_path: Path
) -> None:
    from ml_ci.release.recompute import Recomputed, scoring_environment
    from ml_ci.release.release import claimed_note

    record = pull_request(repo, tmp_path, frozen(), PYTHON)
    claim = load_record(record)
    claim.environment = EnvironmentSection(python="2.7.18", platform="<b>@admin</b>")
    merged = run(["git", "rev-parse", "HEAD"], repo.root)
    config = load_config(repo.root / "ml-ci.yaml")
    own = scoring_environment(repo.root, config, merged, claim.environment)
    again = Recomputed(claim.model_copy(update={"environment": own}), config, None, merged, False)
    note = claimed_note(claim, again)
    assert f"Python `{own.python}`" in note and "checked on `lockfile`, `python`" in note
    assert "claimed a different one (not trusted)" in note and "Python `2.7.18`" in note
    assert "`<b>@admin</b>`" in note  # a code span: inert
    assert "<" not in re.sub(r"`[^`]*`", "", note)  # and nowhere outside one


def test_an_unreadable_or_missing_lock_file_is_one_line(tmp_path: Path) -> None:
    from ml_ci.config import Config
    from ml_ci.config.release import ReleaseConfig
    from ml_ci.errors import GateFailed, InputError
    from ml_ci.release.recompute import scoring_environment

    run(["git", "init", "-q", "-b", "main"], tmp_path)
    (tmp_path / "uv.lock").write_text("[[package]\nname = ", encoding="utf-8")
    run(["git", "add", "uv.lock"], tmp_path)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x"], tmp_path)
    commit = run(["git", "rev-parse", "HEAD"], tmp_path)
    config = Config(release=ReleaseConfig(require_fingerprint=["lockfile"]))
    with pytest.raises(InputError, match=r"uv\.lock cannot be read as a lock file") as error:
        scoring_environment(tmp_path, config, commit, None)
    assert "\n" not in str(error.value) and not isinstance(error.value, GateFailed)
    named = Config(release=ReleaseConfig(require_fingerprint=["python"], lockfile="poetry.lock"))
    with pytest.raises(GateFailed, match=r"release\.lockfile poetry\.lock does not exist at"):
        scoring_environment(tmp_path, named, commit, None)


def test_a_pin_in_an_included_requirements_file_is_checked(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``requirements.txt`` includes ``-r locks/base.txt``: that file, at the merged commit,
    is where numpy is pinned (and the working tree's copy says otherwise: not read)."""
    numpy = installed_versions()["numpy"]
    lines = frozen().replace(f"numpy=={numpy}\n", "")
    (repo.root / "locks").mkdir()
    (repo.root / "locks" / "base.txt").write_text("numpy==1.0.0\n", encoding="utf-8")
    run(["git", "add", "locks/base.txt"], repo.root)
    record = pull_request(repo, tmp_path, "-r locks/base.txt\n" + lines, PYTHON)
    (repo.root / "locks" / "base.txt").write_text(f"numpy=={numpy}\n", encoding="utf-8")
    code, _out, err = release(capsys, record)
    assert code == 1, err
    assert f"numpy==1.0.0 (installed: {numpy})" in err.strip().splitlines()[-1]


def _commit(root: Path, files: dict[str, bytes]) -> str:
    run(["git", "init", "-q", "-b", "main"], root)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    run(["git", "add", *files], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x"], root)
    return run(["git", "rev-parse", "HEAD"], root)


@pytest.mark.parametrize(
    ("files", "lockfile", "why"),
    [
        ({"uv.lock": b""}, None, "uv.lock (sha256:e3b0c44298fc) pins nothing"),
        ({"uv.lock": b"package = [1, 'x']\n"}, None, "uv.lock (sha256:"),
        ({"ci/deps.txt": b"numpy>=1.26\n"}, "ci/deps.txt", "ci/deps.txt (sha256:"),
        (
            {"uv.lock": b'[[package]]\nname = "not-installed-here"\nversion = "1.0"\n'},
            None,
            "names no package installed here",
        ),
    ],
)
def test_a_lock_file_that_compares_nothing_refuses_the_release(
    tmp_path: Path, files: dict[str, bytes], lockfile: str | None, why: str
) -> None:
    from ml_ci.config import Config
    from ml_ci.config.release import ReleaseConfig
    from ml_ci.errors import GateFailed
    from ml_ci.release.recompute import scoring_environment

    commit = _commit(tmp_path, files)
    config = Config(release=ReleaseConfig(require_fingerprint=["lockfile"], lockfile=lockfile))
    with pytest.raises(GateFailed, match="release refused") as error:
        scoring_environment(tmp_path, config, commit, None)
    assert why in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"deps.txt": b"\xff\xfe\x00binary\x00"}, r"deps\.txt cannot be read as a lock file"),
        ({"deps.txt": b"-r deps.txt\n"}, "include loop"),
        ({"deps.txt": b"-r ../outside.txt\n"}, "outside the repository"),
    ],
)
def test_a_configured_file_that_is_no_lock_is_one_line_exit_2(
    tmp_path: Path, files: dict[str, bytes], message: str
) -> None:
    from ml_ci.config import Config
    from ml_ci.config.release import ReleaseConfig
    from ml_ci.errors import GateFailed, InputError
    from ml_ci.release.recompute import scoring_environment

    commit = _commit(tmp_path, files)
    config = Config(release=ReleaseConfig(require_fingerprint=["lockfile"], lockfile="deps.txt"))
    with pytest.raises(InputError, match=message) as error:
        scoring_environment(tmp_path, config, commit, None)
    assert "\n" not in str(error.value) and not isinstance(error.value, GateFailed)
