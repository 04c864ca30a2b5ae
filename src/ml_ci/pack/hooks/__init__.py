"""pre-commit hook implementations (``ml-ci hook <name>``).

Each hook is a pure function ``check(...) -> list[Finding]``; an empty list means the hook
passes. The CLI (:mod:`ml_ci.commands.hook`) prints the findings and exits 1 when there are any.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem a hook found: where, and a one-line message saying what to do."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


__all__ = ["Finding"]
