"""Thin wrappers over the ``git`` command. Errors become one-line :class:`InputError` s."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ResolvedRef:
    """A ref as asked for, the commit it names, and where it was found."""

    ref: str
    sha: str
    found: (
        str  # "pin", "refs/heads/<ref>", "refs/remotes/<remote>/<ref>", "refs/tags/<ref>", "commit"
    )


def lookup_ref(
    root: Path, ref: str, *, pin: Mapping[str, str] | None = None, what: str = "git ref"
) -> ResolvedRef:
    """The commit ``ref`` names, looked up in this order (the first match wins):

    1. ``pin[ref]`` (a caller's fixed meaning, e.g. ``main`` = the merge's first parent);
    2. the local branch ``refs/heads/<ref>``;
    3. a remote-tracking branch ``refs/remotes/<remote>/<ref>`` (``origin`` first): a CI
       clone (``git clone -b candidate``) has only ``origin/main``;
    4. the tag ``refs/tags/<ref>``;
    5. anything else git accepts as a commit: a full or unique abbreviated SHA, ``HEAD~1``,
       ``origin/main``. ``HEAD`` and ``HEAD~n`` go straight here: the checkout, never
       ``refs/remotes/origin/HEAD`` (a clone's remote default branch).

    Not found: ONE :class:`InputError` naming ``what`` and ``ref`` and saying what to fetch.
    """
    remotes = _remotes(root)
    remote = remotes[0] if remotes else "origin"
    if pin and ref in pin:
        sha = _commit(root, pin[ref])
        if sha is None:
            raise InputError(
                f"{what} {ref!r} is pinned to {pin[ref]!r}, which is not a commit in {root}; "
                f"fetch it (git fetch {remote} {pin[ref]})"
            )
        return ResolvedRef(ref, sha, "pin")
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise InputError(f"{what} {ref!r} is not a valid git ref name; fix the name")
    names = [f"refs/heads/{ref}", *(f"refs/remotes/{r}/{ref}" for r in remotes), f"refs/tags/{ref}"]
    if re.fullmatch(r"HEAD([~^@].*)?", ref):  # the checkout (refs/remotes/origin/HEAD is not)
        names = []
    for name in names:
        sha = _commit(root, name)
        if sha is not None:
            return ResolvedRef(ref, sha, name)
    sha = _commit(root, ref)
    if sha is not None:
        return ResolvedRef(ref, sha, "commit")
    raise InputError(
        f"{what} {ref!r} not found: no branch, {remote}/{ref}, tag or commit of that name in "
        f"{root}; "
        f"fetch it (git fetch {remote} {ref}) or fix the name"
    )


def resolve_ref(
    root: Path, ref: str, *, pin: Mapping[str, str] | None = None, what: str = "git ref"
) -> str:
    """The full SHA of ``ref`` (see :func:`lookup_ref` for the order and the error)."""
    return lookup_ref(root, ref, pin=pin, what=what).sha


def rev_parse(root: Path, ref: str) -> str:
    """The commit SHA of ``ref``: :func:`resolve_ref` without a pin (kept for callers)."""
    return resolve_ref(root, ref)


def _commit(root: Path, name: str) -> str | None:
    """The commit ``name`` peels to, or None (``--end-of-options``: a name is never an option)."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def _remotes(root: Path) -> list[str]:
    """The repository's remotes, ``origin`` first."""
    done = subprocess.run(["git", "remote"], cwd=root, capture_output=True, text=True)
    names = done.stdout.split() if done.returncode == 0 else []
    return sorted(names, key=lambda name: (name != "origin", name))


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
    """The best common ancestor of two commits (pass SHAs from :func:`resolve_ref`)."""
    return git(["merge-base", "--end-of-options", a, b], root)


def show_file(root: Path, ref: str, path: str) -> bytes | None:
    """The bytes of ``path`` at ``ref`` (git-tracked files only), or None if absent there."""
    done = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, check=False
    )
    return done.stdout if done.returncode == 0 else None
