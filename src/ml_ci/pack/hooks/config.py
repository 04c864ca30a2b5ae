"""Hook ``ml-ci-config``: every ``ml-ci.yaml`` handed to it must load and validate."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ml_ci.errors import ConfigError
from ml_ci.pack.hooks import Finding


def check(paths: Iterable[Path]) -> list[Finding]:
    """Validate each config file with :func:`ml_ci.config.load_config` (pydantic + pyyaml only)."""
    from ml_ci.config import load_config

    findings: list[Finding] = []
    for path in paths:
        try:
            load_config(path)
        except ConfigError as error:
            # the message already starts with the path; keep only what follows it
            message = str(error).removeprefix(f"{path}: ")
            findings.append(Finding(str(path), message))
    return findings
