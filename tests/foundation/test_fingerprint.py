"""The environment fingerprint: keys, lock-file choice, packages hash against pip's own list."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci.fingerprint import (
    KEYS,
    canonical_name,
    choose_lockfile,
    declared_python,
    diff,
    environment_problems,
    fingerprint,
    from_tag_value,
    installed_versions,
    locked_pins,
    lockfile_key,
    packages_key,
    python_matches,
    record_environment,
    tag_value,
)

LOCKS = Path(__file__).parent / "locks"


def test_every_key_and_the_image_from_the_named_variable(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.5.0\n")
    digest = "ghcr.io/acme/train@sha256:" + "ab" * 32
    found = fingerprint(tmp_path, image_env="JOB_IMAGE", environ={"JOB_IMAGE": digest})
    assert list(found) == list(KEYS)
    assert found["python"] == ".".join(map(str, sys.version_info[:3]))
    assert found["image"] == digest
    digest = hashlib.sha256(b"scikit-learn==1.5.0\n").hexdigest()
    assert found["lockfile"] == f"requirements.txt:sha256:{digest}"
    assert fingerprint(tmp_path)["image"] is None  # no variable named: unknown


def test_a_real_lock_file_wins_over_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("x==1\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert str(lockfile_key(tmp_path)).startswith("uv.lock:sha256:")
    assert lockfile_key(tmp_path / "nowhere") is None
    committed = {"requirements.txt": b"y==2\n"}
    assert lockfile_key(tmp_path, committed) == (
        "requirements.txt:sha256:" + hashlib.sha256(b"y==2\n").hexdigest()
    )


def test_only_a_fully_pinned_requirements_file_is_a_lock(tmp_path: Path) -> None:
    assert lockfile_key(tmp_path, {"requirements.txt": b"numpy>=1.26\npandas==2.2.2\n"}) is None
    files = {
        "requirements.txt": b"numpy>=1.26\n",
        "requirements-lock.txt": b"# pinned\nnumpy==2.1.0 ; python_version >= '3'\n-e .\n",
    }
    assert str(lockfile_key(tmp_path, files)).startswith("requirements-lock.txt:")
    # a configured file is the one, lock or not; absent: none
    assert str(lockfile_key(tmp_path, files, "requirements.txt")).startswith("requirements.txt:")
    assert lockfile_key(tmp_path, files, "uv.lock") is None
    (tmp_path / "requirements.txt").write_text("numpy>=1.26\n")
    assert fingerprint(tmp_path)["lockfile"] is None  # then only ``packages`` says it


def test_uv_lock_and_uvs_own_export_give_the_same_pins() -> None:
    """Both files were written by uv itself (tests/foundation/locks/README.md)."""
    uv_lock = (LOCKS / "uv.lock").read_bytes()
    exported = (LOCKS / "requirements.txt").read_bytes()
    pins, strict = locked_pins("uv.lock", uv_lock)
    assert not strict and pins.pop("demo-model") == {"0.1.0"}  # the project itself
    flat, strict = locked_pins("requirements.txt", exported)
    assert strict and "colorama" not in flat  # its marker is sys_platform == 'win32'
    assert {name: v for name, v in pins.items() if name != "colorama"} == flat
    assert declared_python("uv.lock", uv_lock, None) == ">=3.11"
    assert lockfile_key(LOCKS) == "uv.lock:sha256:" + hashlib.sha256(uv_lock).hexdigest()


def test_other_lock_formats_name_their_pins() -> None:
    pipfile = json.dumps(
        {
            "_meta": {"requires": {"python_version": "3.11"}},
            "default": {"Scikit_Learn": {"version": "==1.5.0"}},
            "develop": {"pytest": {"version": "==8.2.0"}},
        }
    ).encode()
    assert locked_pins("Pipfile.lock", pipfile) == (
        {"scikit-learn": {"1.5.0"}, "pytest": {"8.2.0"}},
        False,
    )
    assert declared_python("Pipfile.lock", pipfile, None) == "3.11"
    conda = b"package:\n- {name: python, version: 3.11.9, manager: conda}\n- {name: numpy, version: 2.0.1, manager: pip}\n"
    assert locked_pins("conda-lock.yml", conda)[0] == {"python": {"3.11.9"}, "numpy": {"2.0.1"}}
    assert declared_python("conda-lock.yml", conda, None) == "3.11.9"
    assert declared_python("uv.lock", b"", b"3.12\n") == "3.12"  # .python-version wins
    with pytest.raises(ValueError, match=r"uv\.lock cannot be read"):
        locked_pins("uv.lock", b"[[package\n")
    with pytest.raises(ValueError, match=r"conda-lock\.yml cannot be read"):
        locked_pins("conda-lock.yml", b"package: [\n")


@pytest.mark.parametrize(
    ("declared", "actual", "expected"),
    [
        ("3.11", "3.11.9", True),
        ("3.11", "3.1.1", False),
        ("3.1", "3.11.9", False),  # a prefix of the numbers, not of the text
        ("3.11.9", "3.11.9", True),
        (">=3.11,<3.13", "3.12.1", True),
        (">=3.11,<3.13", "3.13.0", False),
        ("^3.11", "3.11.9", None),  # poetry's caret is not PEP 440
    ],
)
def test_python_version_against_what_the_commit_declares(
    declared: str, actual: str, expected: bool | None
) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    assert python_matches(declared, actual) is expected
    if declared[0] in "<>=!~":  # the range cases agree with packaging's own reading
        assert SpecifierSet(declared).contains(actual) is expected
    elif declared.startswith("^"):
        with pytest.raises(InvalidSpecifier):
            SpecifierSet(declared)


def test_environment_problems_name_the_key_and_both_values() -> None:
    lock = ("uv.lock", (LOCKS / "uv.lock").read_bytes())
    good = {"click": "8.5.1", "demo-model": "0.1.0"}
    actual = {"python": "3.11.9", "dvc": "3.50.0", "ml_ci": "0.1.0"}
    assert environment_problems(["lockfile", "python"], lock, None, actual, good) == []
    # colorama (win32 only) is not installed: a multi-platform lock does not need it
    wrong = environment_problems(["lockfile"], lock, None, actual, {**good, "click": "8.1.0"})
    assert wrong == [
        f"lockfile: uv.lock (sha256:{hashlib.sha256(lock[1]).hexdigest()[:12]}) pins "
        "click==8.5.1 (installed: 8.1.0)"
    ]
    assert environment_problems(["python"], lock, b"3.12\n", actual, good) == [
        "python: .python-version says 3.12, this environment has 3.11.9"
    ]
    assert environment_problems(["dvc"], lock, None, actual, good) == [
        "dvc: uv.lock does not pin dvc, this environment has 3.50.0"
    ]
    flat = ("requirements.txt", b"click==8.5.1\ndvc==3.49.0\n")
    # a flat file is the whole environment: a pin that is not installed is a mismatch
    assert environment_problems(["lockfile"], flat, None, actual, {"click": "8.5.1"}) == [
        f"lockfile: requirements.txt (sha256:{hashlib.sha256(flat[1]).hexdigest()[:12]}) pins "
        "dvc==3.49.0 (installed: none)"
    ]
    assert environment_problems(["dvc"], flat, None, actual, {}) == [
        "dvc: requirements.txt pins dvc==3.49.0, this environment has 3.50.0"
    ]
    assert environment_problems(["python"], None, None, actual, {}) == [
        "python: the commit declares no Python version (.python-version or the lock file's "
        "requires-python), this environment has 3.11.9"
    ]
    assert "no lock file" in environment_problems(["lockfile"], None, None, actual, {})[0]
    with pytest.raises(ValueError, match="unknown fingerprint keys"):
        environment_problems(["image"], lock, None, actual, good)


def test_this_environment_matches_its_own_pip_freeze() -> None:
    """``pip freeze`` written as requirements.txt is a lock this very environment satisfies."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    lock = choose_lockfile({"requirements.txt": frozen})
    assert lock is not None
    found = fingerprint(Path("."))
    assert environment_problems(["lockfile", "dvc"], lock, None, found, installed_versions()) == []
    assert installed_versions()["dvc"] == found["dvc"]


def test_tag_value_round_trips_and_drops_what_cannot_be_one_token() -> None:
    found = {key: None for key in KEYS} | {"python": "3.11.9", "lockfile": "uv.lock:sha256:ab"}
    assert from_tag_value(tag_value(found)) == found
    forged = found | {"python": "3.11 lockfile=forged", "platform": "a\nimage: x"}
    assert from_tag_value(tag_value(forged)) == found | {"python": None, "platform": None}


def test_packages_hash_is_over_pips_own_listing() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = sorted({f"{canonical_name(p['name'])}=={p['version']}" for p in json.loads(listing)})
    assert packages_key() == "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_diff_lists_every_key_that_differs() -> None:
    base = {"python": "3.11.9", "lockfile": "uv.lock:sha256:aa", "image": None}
    head = {"python": "3.12.1", "lockfile": "uv.lock:sha256:aa", "image": "sha256:1"}
    assert diff(base, head) == [("python", "3.11.9", "3.12.1"), ("image", None, "sha256:1")]


def test_the_image_variable_must_hold_a_digest(tmp_path: Path) -> None:
    from ml_ci.errors import ConfigError

    with pytest.raises(ConfigError, match=r"release.image_env: \$JOB_IMAGE is not an image digest"):
        fingerprint(tmp_path, image_env="JOB_IMAGE", environ={"JOB_IMAGE": "ghs_abc123"})
    assert fingerprint(tmp_path, image_env="JOB_IMAGE", environ={"JOB_IMAGE": ""})["image"] is None


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"require_fingerprint": ["gpu"]}, "release.require_fingerprint"),
        ({"lockfile": "../../etc/passwd"}, "must be a file path inside the repository"),
        ({"lockfile": "/etc/passwd"}, "must be a file path inside the repository"),
        ({"image_env": "GITHUB_TOKEN"}, "looks like a credential"),
        ({"image_env": "MY IMAGE"}, "is not an environment variable name"),
    ],
)
def test_wrong_release_settings_are_one_line_exit_2(
    tmp_path: Path, setting: dict[str, object], message: str
) -> None:
    import yaml

    config = tmp_path / "ml-ci.yaml"
    config.write_text(yaml.safe_dump({"model": {"name": "m"}, "release": setting}))
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "validate", "--config", str(config)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr


def test_without_a_release_tag_the_base_is_its_commits_lock_file(tmp_path: Path) -> None:
    from ml_ci.config import Config
    from ml_ci.record import load_record, save_record

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    (tmp_path / "requirements.txt").write_bytes(b"numpy==2.0.0\n")
    git("add", "requirements.txt")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    (tmp_path / "requirements.txt").write_bytes(b"numpy==2.1.0\n")
    section = record_environment(tmp_path, Config(), base)
    assert section.base is not None and section.base.source == f"the lock file at {base[:12]}"
    assert section.base.lockfile == lockfile_key(tmp_path, {"requirements.txt": b"numpy==2.0.0\n"})
    assert section.lockfile == lockfile_key(tmp_path) != section.base.lockfile
    assert section.base.python is None  # a lock file does not say which Python ran
    assert record_environment(tmp_path, Config(), None).base is None
    # the section round-trips through a strict load
    path = tmp_path / "record.json"
    from ml_ci.record import EvaluationRecord

    save_record(path, EvaluationRecord(environment=section))
    assert load_record(path).environment == section


@pytest.mark.parametrize("folder", ["ci/", "locks/prod/"])
def test_a_configured_lock_file_in_a_folder_is_read_by_its_file_name(folder: str) -> None:
    """``release.lockfile`` may name a file in a folder (``ci/Pipfile.lock``): its format is
    its file name's, as at the repository root."""
    pipfile = json.dumps(
        {
            "_meta": {"requires": {"python_version": "3.11"}},
            "default": {"numpy": {"version": "==2.0.1"}},
        }
    ).encode()
    uv = b'requires-python = ">=3.11"\n[[package]]\nname = "numpy"\nversion = "2.0.1"\n'
    for name, data in (("Pipfile.lock", pipfile), ("uv.lock", uv)):
        assert locked_pins(folder + name, data) == locked_pins(name, data)
        assert declared_python(folder + name, data, None) == declared_python(name, data, None)
        assert declared_python(name, data, None) is not None
