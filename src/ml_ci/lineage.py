"""What the record says about where a result came from: repository, lineage, model artifact.

* ``repo``: head/base SHAs and refs; on GitHub Actions, the repository, pull request and
  run URL from the ``GITHUB_*`` variables (and the event file for the PR number).
* ``lineage``: every dependency and output with its DVC hash, from the COMMITTED
  ``dvc.lock`` (plus ``dvc add``-ed data from ``*.dvc`` files), the parameters DVC
  recorded, and the parameters that differ from the base commit.
* ``artifact``: the model file's lineage entry (``model.path`` in ml-ci.yaml).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_ci import gitutil
from ml_ci.dvcrepo import DvcLock, TrackedEntry, dvc_files_at, hash_path, read_lock_at
from ml_ci.errors import InputError
from ml_ci.record import Lineage, LineageEntry, ParamChange, RepoInfo


@dataclass(frozen=True)
class BaseCommit:
    """The commit the candidate is compared with, and how it was chosen."""

    sha: str
    ref: str


def find_base(root: Path, *, ref: str | None, default_branch: str) -> BaseCommit | None:
    """``baseline.ref`` if set (an error when it does not exist), else the merge-base of HEAD
    with the default branch (``origin/<branch>`` when only the remote one exists); None when
    there is no such branch -- callers then skip what needs a base."""
    if ref is not None:
        return BaseCommit(sha=gitutil.rev_parse(root, ref), ref=ref)
    for candidate in (default_branch, f"origin/{default_branch}"):
        try:
            gitutil.rev_parse(root, candidate)
        except InputError:
            continue
        try:
            return BaseCommit(sha=gitutil.merge_base(root, "HEAD", candidate), ref=candidate)
        except InputError:  # unrelated histories
            return None
    return None


def repo_info(root: Path, base: BaseCommit | None) -> RepoInfo:
    """Repository facts for the record; GitHub's variables win when present.

    ``evaluated_sha`` is the checkout's HEAD (on a ``pull_request`` event, the test-merge
    commit); ``head_sha`` is the commit under review as the event names it (the pull
    request's head, or the pushed commit), else HEAD.
    """
    from ml_ci.github.context import from_env

    env = os.environ
    branch = gitutil.git(["rev-parse", "--abbrev-ref", "HEAD"], root, check=False) or None
    context = from_env(env)
    evaluated = gitutil.head_sha(root)
    return RepoInfo(
        name=context.repository,
        head_sha=context.head_sha or evaluated,
        evaluated_sha=evaluated,
        base_sha=base.sha if base else None,
        head_ref=env.get("GITHUB_HEAD_REF") or (branch if branch != "HEAD" else None),
        base_ref=env.get("GITHUB_BASE_REF") or (base.ref if base else None),
        pull_request=context.pull_request,
        run_url=context.run_url,
    )


def build_lineage(root: Path, lock: DvcLock, head: str, base: BaseCommit | None) -> Lineage:
    """Lineage from the committed ``dvc.lock`` at ``head``; params diffed against ``base``."""
    deps = _unique([*dvc_files_at(root, head), *lock.deps()])
    outs = _unique(lock.outs())
    params = lock.params()
    diff: list[ParamChange] = []
    if base is not None:
        base_lock = read_lock_at(root, base.sha)
        diff = params_diff(base_lock.params() if base_lock else {}, params)
    return Lineage(
        deps=[_as_record(entry) for entry in deps],
        outs=[_as_record(entry) for entry in outs],
        params=params,
        params_diff=diff,
    )


def params_diff(
    base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]
) -> list[ParamChange]:
    """Parameters (file, key) whose value differs; a key missing on one side is ``None``."""
    changes: list[ParamChange] = []
    for file in sorted(set(base) | set(head)):
        before, after = base.get(file, {}), head.get(file, {})
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                changes.append(
                    ParamChange(file=file, key=key, base=before.get(key), head=after.get(key))
                )
    return changes


def model_artifact(root: Path, lock: DvcLock | None, head: str, path: str) -> LineageEntry:
    """The model's lineage entry: its hash from the committed lock or ``.dvc`` file, else
    the file's own hash (a model git tracks directly)."""
    tracked = [*(lock.outs() if lock else []), *dvc_files_at(root, head)]
    for entry in tracked:
        if entry.path == path:
            return _as_record(entry)
    actual = hash_path(root / path)
    if actual is None:
        raise InputError(
            f"model.path {path!r} is neither a DVC output in dvc.lock nor a file in {root}; "
            "fix model.path in ml-ci.yaml"
        )
    return LineageEntry(path=path, hash=actual, kind="data")


def _unique(entries: list[TrackedEntry]) -> list[TrackedEntry]:
    seen: set[tuple[str, str | None]] = set()
    kept: list[TrackedEntry] = []
    for entry in entries:
        key = (entry.path, entry.stage)
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


def _as_record(entry: TrackedEntry) -> LineageEntry:
    kind = entry.kind if entry.kind in ("dep", "out", "data") else "dep"
    return LineageEntry(
        path=entry.path,
        hash=entry.hash,
        stage=entry.stage,
        kind=kind,
        size=entry.size,
    )
