"""Running the real ``ml-ci`` command in tests (import as ``from tests.foundation.helpers``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_ml_ci(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m ml_ci ARGS`` in ``cwd``: the installed CLI, exit code and output captured."""
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", *args], cwd=cwd, capture_output=True, text=True
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """Assert a user error: exit 2, exactly one stderr line, no traceback; return the line."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    return lines[0]
