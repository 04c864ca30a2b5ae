"""Append-only results beside a version's record: git notes ``refs/notes/ml-ci``.

A released version's evaluation record cannot change (its tag carries the record's digest and
release assets cannot be edited), but what the version then did in production is part of its
audit trail: each canary or monitor run adds one JSON line to the git note of the version's
commit. Git notes because they

* live in the repository beside the tags (``git fetch origin refs/notes/ml-ci:refs/notes/ml-ci``
  brings them; no service, no size limit of 1,000 assets as releases have);
* never change the commit or its tags, and ``git notes append`` only adds;
* merge without conflicts when two runs append at once: each line is a whole result, so the
  ``cat_sort_uniq`` strategy (the union of the lines) is exact.

A push that loses a race is retried after fetching and merging the remote's notes (bounded).
Lines are read back sorted by their ``at`` time.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_ci.errors import InputError

NOTES = "ml-ci"
REF = f"refs/notes/{NOTES}"
REMOTE_COPY = "refs/notes/ml-ci-remote"
ATTEMPTS = 5


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    from ml_ci.release.gitops import remote_env

    # fetch/push get the job's token as a header for this one command (never on disk)
    env = remote_env() if args[0] in ("fetch", "push") else None
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, env=env
    )
    if check and done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"git {' '.join(args[:2])} failed in {root}: {last}")
    return done


def _fetch(root: Path, remote: str) -> bool:
    """Fetch the remote's notes into REMOTE_COPY and merge them (False: the remote has none)."""
    done = _git(root, "fetch", "-q", remote, f"+{REF}:{REMOTE_COPY}", check=False)
    if done.returncode != 0:
        return False
    _git(root, "notes", f"--ref={NOTES}", "merge", "-q", "-s", "cat_sort_uniq", REMOTE_COPY)
    return True


def append_result(
    root: Path,
    commit: str,
    kind: str,
    payload: dict[str, Any],
    *,
    now: float | None = None,
    remote: str = "origin",
    push: bool = True,
) -> dict[str, Any]:
    """Add one result line to ``commit``'s note (and push it); returns the stored entry."""
    at = datetime.fromtimestamp(now, UTC) if now is not None else datetime.now(UTC)
    entry = {"kind": kind, "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), **payload}
    line = json.dumps(entry, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if push:
        _fetch(root, remote)
    _git(root, "notes", f"--ref={NOTES}", "append", "-m", line, commit)
    if not push:
        return entry
    for _ in range(ATTEMPTS):
        pushed = _git(root, "push", "-q", remote, f"{REF}:{REF}", check=False)
        if pushed.returncode == 0:
            return entry
        _fetch(root, remote)  # another run appended first: take the union, try again
    raise InputError(
        f"could not push {REF} to {remote} after {ATTEMPTS} attempts; rerun (the result is "
        "kept in the local notes)"
    )


def fetch_results(root: Path, remote: str = "origin") -> bool:
    """Merge the remote's stored results into the local notes (a fresh clone has none): read
    this before deciding from the last stored result (False: the remote has none)."""
    return _fetch(root, remote)


def read_results(root: Path, commit: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The results stored for ``commit`` (of ``kind``), oldest first."""
    done = _git(root, "notes", f"--ref={NOTES}", "show", commit, check=False)
    if done.returncode != 0:
        return []
    entries = []
    for text in done.stdout.splitlines():
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except ValueError:
            continue  # a line someone wrote by hand: not ours to interpret
        if isinstance(entry, dict) and (kind is None or entry.get("kind") == kind):
            entries.append(entry)
    return sorted(entries, key=lambda e: str(e.get("at", "")))
