"""The ``environment`` section: where the model was trained, evaluated or rescored.

Optional and additive (records without it still load). Written by ``ml-ci repro`` and
``ml-ci compare`` in the pull request's run (its author controls that run, so the values are a
claim, shown and never trusted) and by ``ml-ci release`` for its own scoring job, which adds
the pull request's claim beside its own (``claimed``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.record.base import RecordModel


class Fingerprint(RecordModel):
    """The keys of :func:`ml_ci.fingerprint.fingerprint` (``None``: unknown)."""

    python: str | None = Field(None, description="Python version, e.g. 3.11.9.")
    platform: str | None = Field(None, description="System and machine, e.g. Linux-x86_64.")
    lockfile: str | None = Field(
        None, description="<file>:sha256:<hex> of the lock file (null: none found)."
    )
    packages: str | None = Field(
        None, description="sha256 of the sorted name==version lines of the installed packages."
    )
    image: str | None = Field(
        None, description="Container image digest, from the variable release.image_env names."
    )
    dvc: str | None = Field(None, description="DVC version.")
    ml_ci: str | None = Field(None, description="ml-ci version.")


class BaseEnvironment(Fingerprint):
    """The base's fingerprint, as far as it is known, and where it came from."""

    source: str = Field(
        description="Where it was read: the baseline version's release tag, or the base "
        "commit's lock file (then only ``lockfile`` is known)."
    )


class EnvironmentSection(Fingerprint):
    """This run's environment, plus the base's (pull request) or the claim (release)."""

    role: Literal["pull_request", "release"] = Field(
        "pull_request", description="Who computed it: the pull request's run or the release."
    )
    base: BaseEnvironment | None = Field(
        None, description="The base's environment, for the report's diff (null: not recorded)."
    )
    claimed: Fingerprint | None = Field(
        None,
        description="Release only: the pull request's record's fingerprint, shown and never "
        "trusted (null: the record had none).",
    )
    required: list[str] = Field(
        default_factory=list,
        description="Release only: the keys (release.require_fingerprint) checked against the "
        "merged commit; they matched, or there would be no release.",
    )
