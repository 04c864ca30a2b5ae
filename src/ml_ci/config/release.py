"""Config of ``ml-ci release``, ``promote`` and ``rollback``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from ml_ci.config.base import Section

#: Words in a variable name that mark a credential (its value is never recorded).
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH")


class ReleaseConfig(Section):
    bump: Literal["major", "minor", "patch"] = Field(
        "minor", description="Default version bump; a ml-ci:major|minor|patch label overrides."
    )
    stage: str = Field("canary", description="Stage assigned on merge.")
    canary_traffic: float = Field(0.1, gt=0, le=1, description="Canary traffic share.")
    promote_requires_approval: bool = Field(
        False, description="promote/rollback check governance too."
    )
    trust_record: bool = Field(
        False,
        description="RISK: when the release cannot recompute the gates and drift itself (no "
        "predict.command, no DVC data), release on the pull request's own record, which its "
        "author controls. Read from the merge's first parent, so a pull request cannot set it "
        "for itself.",
    )
    require_fingerprint: list[Literal["lockfile", "python", "dvc", "ml_ci"]] = Field(
        default_factory=list,
        description="Environment keys the release's own scoring job must match the merged "
        "commit on, else it refuses (exit 1): lockfile (the installed packages are the lock "
        "file's pins), python (.python-version or the lock file's requires-python), dvc and "
        "ml_ci (the versions the lock file pins). Read from the merge's first parent.",
    )
    lockfile: str | None = Field(
        None,
        description="The lock file at the repository root (e.g. uv.lock); default: the first "
        "of uv.lock, poetry.lock, pdm.lock, Pipfile.lock, conda-lock.yml, requirements.lock, "
        "then a requirements*.txt whose every line pins with ==.",
    )
    image_env: str | None = Field(
        None,
        description="Environment variable holding the job's container image digest (e.g. "
        "ML_CI_IMAGE_DIGEST set by the workflow); recorded as the fingerprint's image.",
    )

    @field_validator("lockfile")
    @classmethod
    def _inside_the_repository(cls, value: str | None) -> str | None:
        parts = value.replace("\\", "/").split("/") if value is not None else []
        if value is not None and (value.startswith("/") or ".." in parts or not parts[-1]):
            raise ValueError(f"{value!r} must be a file path inside the repository, e.g. uv.lock")
        return value

    @field_validator("image_env")
    @classmethod
    def _a_variable_that_holds_no_secret(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"{value!r} is not an environment variable name")
        if any(word in value.upper() for word in SECRET_WORDS):
            # its value would be written to the record: never a credential
            raise ValueError(f"{value!r} looks like a credential; name the image digest's variable")
        return value
