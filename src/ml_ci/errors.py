"""The one place that decides exit codes.

Every expected failure is an :class:`MlCiError` subclass carrying its exit code and a one-line
message that names the file, key or column and what to do. The CLI turns these into output
and an exit status; anything else that escapes is an internal error (exit 3).
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class MlCiError(Exception):
    """Base of all expected errors; ``str(error)`` is the one-line message for the user."""

    exit_code: int = EXIT_USAGE


class UsageError(MlCiError):
    """The command line itself is wrong (missing flag, conflicting options)."""


class InputError(MlCiError):
    """A file, key, column or repository state given to ml-ci is not usable."""


class ConfigError(InputError):
    """``ml-ci.yaml`` is missing, malformed, or fails validation."""


class ExternalToolError(InputError):
    """git, dvc or a configured command failed in a way the user must fix."""


class GateFailed(MlCiError):
    """A gate (reproduction, comparison, drift, governance) did not pass."""

    exit_code = EXIT_GATE_FAILED
