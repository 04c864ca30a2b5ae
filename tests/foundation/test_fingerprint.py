"""The environment fingerprint: keys, lock-file choice, packages hash against pip's own list."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ml_ci.example import ExampleRepo
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
    version_matches,
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


# ------------------------------------------------ issue 15.6: a lock that compares nothing
@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("uv.lock", b"", "pins nothing"),
        ("uv.lock", b"package = [1, 'x']\n", "pins nothing"),
        ("uv.lock", b"[[package]]\nname = 1\nversion = 2\n", "pins nothing"),
        ("Pipfile.lock", b'{"default": []}', "pins nothing"),
        ("conda-lock.yml", b"package: [[1]]\n", "pins nothing"),
        ("requirements.txt", b"numpy>=1.26\npandas\n", "pins nothing"),
        ("requirements.txt", b"# only a comment\n", "pins nothing"),
        ("uv.lock", b'[[package]]\nname = "not-installed-here"\nversion = "1.0"\n', "names no"),
    ],
)
def test_a_lock_file_that_compares_nothing_refuses(name: str, data: bytes, why: str) -> None:
    actual = {"python": "3.11.9", "dvc": None, "ml_ci": None}
    problems = environment_problems(["lockfile"], (name, data), None, actual, {"click": "8.1.7"})
    assert len(problems) == 1 and problems[0].startswith(f"lockfile: {name} ")
    assert why in problems[0]


def test_a_binary_requirements_file_is_unreadable_not_an_empty_lock() -> None:
    for data in (b"\xff\xfe\x00binary\x00", b"numpy==1.0\n\x00\x00"):
        with pytest.raises(ValueError, match=r"requirements\.txt cannot be read as a lock file"):
            locked_pins("requirements.txt", data)


# ------------------------------------------------ issue 15.6: -r / -c includes are followed
def _reader(files: dict[str, bytes]) -> Callable[[str], bytes | None]:
    return files.get


def test_requirements_includes_are_followed_relative_to_the_including_file() -> None:
    files = {
        "ci/requirements.txt": b"-r base.txt\n--requirement=sub/extra.txt\n-c pins.txt\nclick==8.1.7\n",
        "ci/base.txt": b"numpy==2.0.1\n",
        "ci/sub/extra.txt": b"-r ../base.txt\npandas==2.2.2  # included twice: read once\n",
        "ci/pins.txt": b"scipy==1.14.0\nnot-installed==9.9\n",
    }
    pins, strict = locked_pins("ci/requirements.txt", files["ci/requirements.txt"], _reader(files))
    assert strict and pins == {
        "numpy": {"2.0.1"}, "pandas": {"2.2.2"}, "click": {"8.1.7"},
        "scipy": {"1.14.0"}, "not-installed": {"9.9"},
    }  # fmt: skip
    installed = {"numpy": "2.0.1", "pandas": "2.2.2", "click": "8.1.7", "scipy": "1.14.0"}
    actual = {"python": "3.11.9", "dvc": None, "ml_ci": None}
    lock = ("ci/requirements.txt", files["ci/requirements.txt"])
    # a constraint only limits what is installed: not installed is no mismatch
    assert environment_problems(["lockfile"], lock, None, actual, installed, _reader(files)) == []
    wrong = environment_problems(
        ["lockfile"], lock, None, actual, {**installed, "numpy": "1.26.4"}, _reader(files)
    )
    assert len(wrong) == 1 and "numpy==2.0.1 (installed: 1.26.4)" in wrong[0]
    wrong = environment_problems(
        ["lockfile"], lock, None, actual, {**installed, "scipy": "1.13.0"}, _reader(files)
    )
    assert len(wrong) == 1 and "scipy==1.14.0 (installed: 1.13.0)" in wrong[0]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"requirements.txt": b"-r requirements.txt\n"}, "include loop"),
        ({"requirements.txt": b"-r a.txt\n", "a.txt": b"-c requirements.txt\n"}, "include loop"),
        ({"requirements.txt": b"-r ../../etc/passwd\n"}, "outside the repository"),
        ({"requirements.txt": b"-r /etc/passwd\n"}, "outside the repository"),
        ({"requirements.txt": b"-r https://example.com/r.txt\n"}, "not a file in the repository"),
        ({"requirements.txt": b"-r missing.txt\n"}, "missing.txt does not exist"),
        ({"requirements.txt": b"-r\n"}, "names no file"),
    ],
)
def test_a_bad_include_is_one_line(files: dict[str, bytes], message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        locked_pins("requirements.txt", files["requirements.txt"], _reader(files))
    assert "\n" not in str(error.value) and "requirements.txt" in str(error.value)


def test_without_a_commit_to_read_an_include_is_refused_not_skipped() -> None:
    with pytest.raises(ValueError, match=r"requirements\.txt: -r base\.txt cannot be followed"):
        locked_pins("requirements.txt", b"-r base.txt\nnumpy==2.0.1\n")


# ------------------------------------------------ issue 15.6: PEP 440 version equality
@pytest.mark.parametrize(
    ("pinned", "installed"),
    [
        ("1.26", "1.26.0"),
        ("1.26.0", "1.26"),
        ("1.26", "1.26.1"),
        ("1.26", "1.26.0+cpu"),  # a public pin ignores the local label
        ("1.26+cpu", "1.26.0+cpu"),
        ("1.26+cpu", "1.26.0"),  # a local pin requires the label
        ("2.3.0+cpu", "2.3.0+cu121"),
        ("1.26rc1", "1.26"),
        ("1.0.post1", "1.0"),
        ("1.0", "1.0.dev0"),
        ("1!1.0", "1.0"),
        ("1.0", "v1.0"),
        ("1.0a1", "1.0.0alpha1"),
    ],
)
def test_versions_are_equal_as_pep_440_says(pinned: str, installed: str) -> None:
    from packaging.specifiers import Specifier

    reference = Specifier(f"=={pinned}").contains(installed, prereleases=True)
    assert version_matches(pinned, installed) is reference
    assert version_matches(pinned, installed, arbitrary=True) is (pinned == installed)


def test_versions_that_are_not_pep_440_and_arbitrary_equality_compare_as_text() -> None:
    assert version_matches("1.*", "1.26.4") is False  # a wildcard is a range, not a pin
    assert version_matches("2024.custom", "2024.custom") is True
    assert version_matches("2024.custom", "2024.Custom") is False
    assert version_matches("1.26", "weird-build") is False
    assert version_matches("9" * 5000, "1.0") is False  # too long for int(): text, no crash
    assert environment_problems(
        ["lockfile"], ("requirements.txt", b"numpy==1.26\t# a tab, then a comment\n"),
        None, {}, {"numpy": "1.26.0"},
    ) == []  # fmt: skip
    long = environment_problems(
        ["lockfile"], ("requirements.txt", b"numpy==" + b"9" * 5000 + b"\n"), None, {},
        {"numpy": "1.26.0"},
    )  # fmt: skip
    assert len(long) == 1 and len(long[0]) < 200
    actual = {"python": "3.11.9", "dvc": "3.50.0", "ml_ci": None}
    flat = ("requirements.txt", b"numpy==1.26\ndvc==3.50\n")
    installed = {"numpy": "1.26.0", "dvc": "3.50.0"}
    assert environment_problems(["lockfile", "dvc"], flat, None, actual, installed) == []
    arbitrary = ("requirements.txt", b"numpy===1.26\n")
    wrong = environment_problems(["lockfile"], arbitrary, None, actual, installed)
    assert len(wrong) == 1 and "numpy===1.26 (installed: 1.26.0)" in wrong[0]
    exact = ("requirements.txt", b"numpy===1.26.0\n")
    assert environment_problems(["lockfile"], exact, None, actual, installed) == []


# ------------------------------------------------ issue 15.6: settings checked before the work
BAD_DIGEST = "not-a-digest"


def test_compare_checks_the_image_variable_before_computing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_ci.record import EvaluationRecord, load_record, save_record
    from tests.compare.helpers import run_compare, write_binary

    base, cand = write_binary(tmp_path, n=200)
    save_record(tmp_path / "record.json", EvaluationRecord(model="kept"))
    config = "task: binary\nrelease: {image_env: JOB_IMAGE}\n"
    monkeypatch.setenv("JOB_IMAGE", BAD_DIGEST)
    assert run_compare(tmp_path, base, cand, config) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    # the one line, and no "reading ..." progress: nothing was computed to be thrown away
    assert len(lines) == 1 and "release.image_env: $JOB_IMAGE is not an image digest" in lines[0]
    assert load_record(tmp_path / "record.json") == EvaluationRecord(model="kept")
    monkeypatch.setenv("JOB_IMAGE", "sha256:" + "ab" * 32)
    assert run_compare(tmp_path, base, cand, config) in (0, 1)
    assert load_record(tmp_path / "record.json").environment.image == "sha256:" + "ab" * 32  # type: ignore[union-attr]


def test_repro_checks_the_image_variable_before_reproducing(
    example_repo: ExampleRepo,
) -> None:
    import os

    root = example_repo.root
    config = root / "image-env.yaml"  # untracked, in the repository the config names
    config.write_text(
        (root / "ml-ci.yaml").read_text(encoding="utf-8") + "\nrelease: {image_env: JOB_IMAGE}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "repro", "--config", str(config)],
        cwd=root, capture_output=True, text=True, env={**os.environ, "JOB_IMAGE": BAD_DIGEST},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "release.image_env: $JOB_IMAGE is not an image digest" in lines[0]
    assert "reproducing" not in done.stderr and not (root / "ml-ci-record.json").exists()
