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
    diff,
    fingerprint,
    lockfile_key,
    mismatches,
    packages_key,
)


def test_every_key_and_the_image_from_the_named_variable(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.5.0\n")
    found = fingerprint(tmp_path, image_env="JOB_IMAGE", environ={"JOB_IMAGE": "sha256:ab12"})
    assert list(found) == list(KEYS)
    assert found["python"] == ".".join(map(str, sys.version_info[:3]))
    assert found["image"] == "sha256:ab12"
    digest = hashlib.sha256(b"scikit-learn==1.5.0\n").hexdigest()
    assert found["lockfile"] == f"requirements.txt:sha256:{digest}"
    assert fingerprint(tmp_path)["image"] is None  # no variable named: unknown


def test_a_real_lock_file_wins_over_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("x\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert str(lockfile_key(tmp_path)).startswith("uv.lock:sha256:")
    assert lockfile_key(tmp_path / "nowhere") is None
    committed = {"requirements.txt": b"y\n"}
    assert lockfile_key(tmp_path, committed) == (
        "requirements.txt:sha256:" + hashlib.sha256(b"y\n").hexdigest()
    )


def test_packages_hash_is_over_pips_own_listing() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = sorted({f"{canonical_name(p['name'])}=={p['version']}" for p in json.loads(listing)})
    assert packages_key() == "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_diff_and_required_mismatches() -> None:
    base = {"python": "3.11.9", "lockfile": "uv.lock:sha256:aa", "image": None}
    head = {"python": "3.12.1", "lockfile": "uv.lock:sha256:aa", "image": "sha256:1"}
    assert diff(base, head) == [("python", "3.11.9", "3.12.1"), ("image", None, "sha256:1")]
    assert mismatches(["lockfile"], base, head) == []
    assert mismatches(["python", "lockfile"], base, head) == [
        "python: expected 3.11.9, this environment has 3.12.1"
    ]
    with pytest.raises(ValueError, match="unknown fingerprint keys"):
        mismatches(["gpu"], base, head)
