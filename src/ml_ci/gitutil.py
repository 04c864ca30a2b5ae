"""Thin wrappers over the ``git`` command. Errors become one-line :class:`InputError` s."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ml_ci.errors import ExternalToolError, InputError


def git(args: list[str], cwd: Path, *, check: bool = True, input_text: str | None = None) -> str:
    """Run ``git args`` in ``cwd`` and return its stdout (stripped of the final newline)."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            input=input_text,
            check=False,
        )
    except FileNotFoundError:
        raise ExternalToolError("git is not installed or not on PATH; install git") from None
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ExternalToolError(
            f"git {' '.join(args)} failed in {cwd}: {detail[-1] if detail else done.returncode}"
        )
    return done.stdout.rstrip("\n")


def repo_root(start: Path) -> Path:
    """The top folder of the git work tree containing ``start``."""
    done = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise InputError(f"{start.resolve()}: not a git repository; run ml-ci inside a git clone")
    return Path(done.stdout.strip())


def rev_parse(root: Path, ref: str) -> str:
    """The commit SHA of ``ref``; a clear error when it does not exist."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise InputError(
            f"git ref {ref!r} not found in {root}; fetch it (git fetch) or fix the name"
        )
    return done.stdout.strip()


def head_sha(root: Path) -> str | None:
    """HEAD's SHA, or None in a repository without commits."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or None


def merge_base(root: Path, a: str, b: str) -> str:
    return git(["merge-base", a, b], root)


def show_file(root: Path, ref: str, path: str) -> bytes | None:
    """The bytes of ``path`` at ``ref`` (git-tracked files only), or None if absent there."""
    done = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, check=False
    )
    return done.stdout if done.returncode == 0 else None
