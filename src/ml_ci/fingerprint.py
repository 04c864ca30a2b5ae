"""The environment a model was trained and evaluated in, as comparable keys.

``fingerprint(root)`` returns, each key a string (or ``None`` when unknown):

* ``python``: ``3.11.9`` (the interpreter running ml-ci, which runs the stages' ``python``);
* ``platform``: ``Linux-x86_64`` (system and machine; not the kernel build);
* ``lockfile``: ``<file>:sha256:<hex>`` of the first lock file found at the repository root
  (:data:`LOCK_FILES`, in that order), its bytes as committed in the working tree;
* ``packages``: ``sha256:<hex>`` of the sorted ``name==version`` lines (PEP 503 names) of every
  installed distribution (what ``pip list`` shows, without running pip);
* ``image``: the container image digest from the environment variable named by
  ``image_env`` (e.g. a job container's ``ML_CI_IMAGE_DIGEST=sha256:...`` set by the workflow);
* ``dvc``, ``ml_ci``: the versions.

``diff(base, head)`` lists the keys whose values differ. A pull request's claimed
fingerprint is shown, never trusted: the release computes its own and compares it with the
merged commit's lock file on the keys ``release.require_fingerprint`` names.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import sys
from collections.abc import Mapping
from pathlib import Path

LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "conda-lock.yml",
    "requirements.lock",
    "requirements.txt",
    "environment.yml",
)
KEYS = ("python", "platform", "lockfile", "packages", "image", "dvc", "ml_ci")


def lockfile_key(root: Path, content: Mapping[str, bytes] | None = None) -> str | None:
    """``<file>:sha256:<hex>`` of the first lock file present; ``content`` (file -> bytes)
    replaces the working tree, e.g. with the files of a commit."""
    for name in LOCK_FILES:
        data = content.get(name) if content is not None else _read(root / name)
        if data is not None:
            return f"{name}:sha256:{hashlib.sha256(data).hexdigest()}"
    return None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def canonical_name(name: str) -> str:
    """PEP 503: lowercase, runs of ``-_.`` become one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def packages_key() -> str:
    """sha256 of the sorted ``name==version`` lines of the installed distributions."""
    from importlib.metadata import distributions

    lines = sorted(
        {
            f"{canonical_name(dist.metadata['Name'])}=={dist.version}"
            for dist in distributions()
            if dist.metadata["Name"]
        }
    )
    return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def fingerprint(
    root: Path, *, image_env: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """The environment's keys (see the module doc)."""
    from ml_ci import __version__

    env = os.environ if environ is None else environ
    from importlib.metadata import PackageNotFoundError, version

    try:
        dvc: str | None = version("dvc")
    except PackageNotFoundError:  # not installed: the key is unknown, not an error
        dvc = None
    return {
        "python": ".".join(str(part) for part in sys.version_info[:3]),
        "platform": f"{platform.system()}-{platform.machine()}",
        "lockfile": lockfile_key(root),
        "packages": packages_key(),
        "image": (env.get(image_env) or None) if image_env else None,
        "dvc": dvc,
        "ml_ci": __version__,
    }


def diff(
    base: Mapping[str, str | None], head: Mapping[str, str | None]
) -> list[tuple[str, str | None, str | None]]:
    """(key, base value, head value) of every key whose value differs."""
    return [(key, base.get(key), head.get(key)) for key in KEYS if base.get(key) != head.get(key)]


def mismatches(
    required: list[str], expected: Mapping[str, str | None], actual: Mapping[str, str | None]
) -> list[str]:
    """One line per required key where ``actual`` differs from ``expected``."""
    unknown = sorted(set(required) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown fingerprint keys {unknown}; use {', '.join(KEYS)}")
    return [
        f"{key}: expected {expected.get(key) or '-'}, this environment has {actual.get(key) or '-'}"
        for key in required
        if expected.get(key) != actual.get(key)
    ]
