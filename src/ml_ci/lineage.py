"""What the record says about where a result came from: base commit, lineage, model artifact.

* ``base``: the commit the change is compared with (:func:`find_base`);
* ``lineage``: every dependency and output with its DVC hash, from the COMMITTED
  ``dvc.lock`` (plus ``dvc add``-ed data from ``*.dvc`` files), the parameters DVC
  recorded, and the parameters that differ from the base commit.
* ``artifact``: the model file's lineage entry (``model.path`` in ml-ci.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_ci import gitutil
from ml_ci.dvcrepo import DvcLock, TrackedEntry, dvc_files_at, hash_path, read_lock_at
from ml_ci.errors import ExternalToolError, InputError
from ml_ci.record import Lineage, LineageEntry, ParamChange


@dataclass(frozen=True)
class BaseCommit:
    """The commit the candidate is compared with, and how it was chosen."""

    sha: str
    ref: str


def find_base(
    root: Path,
    *,
    ref: str | None,
    default_branch: str,
    pin: Mapping[str, str] | None = None,
) -> BaseCommit | None:
    """``baseline.ref`` if set (an error when it does not exist), else the merge-base of HEAD
    with the default branch, both through :func:`ml_ci.gitutil.lookup_ref` (a CI clone's
    ``origin/<branch>`` counts); None when the branch is nowhere or the histories are
    unrelated -- callers then skip what needs a base."""
    if ref is not None:
        return BaseCommit(sha=gitutil.resolve_ref(root, ref, pin=pin, what="baseline.ref"), ref=ref)
    try:
        found = gitutil.lookup_ref(root, default_branch, pin=pin)
    except InputError:
        return None
    name = found.found.removeprefix("refs/heads/").removeprefix("refs/remotes/")
    try:
        sha = gitutil.merge_base(root, "HEAD", found.sha)
    except ExternalToolError:  # unrelated histories
        return None
    return BaseCommit(sha=sha, ref=default_branch if found.found in ("pin", "commit") else name)


def build_lineage(root: Path, lock: DvcLock, head: str, base: BaseCommit | None) -> Lineage:
    """Lineage from the committed ``dvc.lock`` (and ``*.dvc`` files) at ``head``; hashes and
    params compared with the same files at ``base`` (every entry gets ``base_hash`` and
    ``changed``; paths tracked only at the base are ``removed``)."""
    deps = _unique([*dvc_files_at(root, head), *lock.deps()])
    outs = _unique(lock.outs())
    params = lock.params()
    lineage = Lineage(
        deps=[_as_record(entry) for entry in deps],
        outs=[_as_record(entry) for entry in outs],
        params=params,
        stage_params={
            name: {file: sorted(values) for file, values in stage.params.items()}
            for name, stage in lock.stages.items()
            if stage.params
        },
    )
    if base is None:
        return lineage
    base_lock = read_lock_at(root, base.sha)
    base_entries = [
        *dvc_files_at(root, base.sha),
        *(base_lock.deps() if base_lock else []),
        *(base_lock.outs() if base_lock else []),
    ]
    lineage.params_diff = params_diff(base_lock.params() if base_lock else {}, params)
    lineage.base_sha = base.sha
    before = _hashes(base_entries)
    for entry in [*lineage.deps, *lineage.outs]:
        entry.base_hash = before.get(entry.path)
        entry.changed = entry.base_hash != entry.hash
    tracked = {entry.path for entry in [*lineage.deps, *lineage.outs]}
    lineage.removed = [
        _as_record(entry) for entry in _unique(base_entries) if entry.path not in tracked
    ]
    for entry in lineage.removed:
        entry.base_hash, entry.hash, entry.changed = entry.hash, None, True
    return lineage


CODE_SUFFIXES = frozenset(
    {".py", ".ipynb", ".r", ".jl", ".sh", ".sql", ".scala", ".java", ".js", ".ts", ".go", ".rs"}
)
ROLE_ORDER = {"data": 0, "code": 1, "output": 2}


@dataclass(frozen=True)
class LineageChange:
    """One tracked path whose content differs between the base and head commits."""

    path: str
    role: str  # "data", "code" or "output"
    base_hash: str | None  # None: added at head
    head_hash: str | None  # None: removed at head
    stages: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.base_hash is None:
            return "added"
        return "removed" if self.head_hash is None else "modified"


def lineage_changes(lineage: Lineage) -> list[LineageChange]:
    """THE diff of a recorded lineage against its base: each changed path once (a file that
    is one stage's output and another's input is one change), data first, then code, then
    outputs. Empty for a lineage without a base (``changed`` unknown). The report's table and
    the lineage graph both read this."""
    by_path: dict[str, list[LineageEntry]] = {}
    for entry in [*lineage.deps, *lineage.outs, *lineage.removed]:
        by_path.setdefault(entry.path, []).append(entry)
    changes = []
    for path, entries in by_path.items():
        if not any(entry.changed for entry in entries):
            continue
        first = entries[0]
        changes.append(
            LineageChange(
                path=path,
                role=_role(path, {entry.kind for entry in entries}),
                base_hash=first.base_hash,
                head_hash=first.hash,
                stages=tuple(sorted({e.stage for e in entries if e.stage})),
            )
        )
    return sorted(changes, key=lambda c: (ROLE_ORDER[c.role], c.path))


def _role(path: str, kinds: set[str]) -> str:
    return path_role(path, kinds)


def path_role(path: str, kinds: set[str]) -> str:
    """``output`` for a path some stage makes, else ``code`` by suffix, else ``data``."""
    if "out" in kinds:
        return "output"
    return "code" if Path(path).suffix.lower() in CODE_SUFFIXES else "data"


def _hashes(entries: list[TrackedEntry]) -> dict[str, str | None]:
    """path -> hash (the first one seen: a path has one content per commit)."""
    found: dict[str, str | None] = {}
    for entry in entries:
        if found.get(entry.path) is None:
            found[entry.path] = entry.hash
    return found


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
