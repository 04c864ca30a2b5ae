"""Version arithmetic on GTO's ``v{semver}`` strings, using the ``semver`` package."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import semver

from ml_ci.errors import InputError

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")
LABEL_PREFIX = "ml-ci:"


def parse(version: str) -> semver.Version:
    """``v1.2.3`` (or ``1.2.3``) as a :class:`semver.Version`; a clear error otherwise."""
    try:
        return semver.Version.parse(version.removeprefix("v"))
    except ValueError:
        raise InputError(
            f"version {version!r} is not semantic versioning; use e.g. v1.2.3"
        ) from None


def bump(version: str | None, kind: Bump) -> str:
    """The next version after ``version`` (``None``: nothing released yet, start at 0.0.0).

    major: 1.4.2 -> 2.0.0, minor: 1.4.2 -> 1.5.0, patch: 1.4.2 -> 1.4.3; pre-release and
    build parts are dropped.
    """
    base = parse(version) if version else semver.Version(0, 0, 0)
    base = semver.Version(base.major, base.minor, base.patch)
    bumped = {"major": base.bump_major, "minor": base.bump_minor, "patch": base.bump_patch}[kind]()
    return f"v{bumped}"


def highest(versions: Iterable[str]) -> str | None:
    """The highest of ``versions`` by semver precedence, or ``None`` when there are none."""
    parsed = [(parse(v), v) for v in versions]
    return max(parsed, key=lambda pair: pair[0])[1] if parsed else None


def next_version(taken: Iterable[str], kind: Bump) -> str:
    """``kind`` bump of the highest version ever tagged (deregistered ones too: a version
    number is never reused)."""
    return bump(highest(taken), kind)


def bump_from_labels(labels: Iterable[str]) -> Bump | None:
    """The bump a pull request's ``ml-ci:major|minor|patch`` labels ask for (largest wins)."""
    asked = {label.removeprefix(LABEL_PREFIX) for label in labels if label.startswith(LABEL_PREFIX)}
    for kind in BUMPS:
        if kind in asked:
            return kind
    return None
