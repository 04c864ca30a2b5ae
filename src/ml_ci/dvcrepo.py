"""DVC repository facts ml-ci needs: running ``dvc``, reading ``dvc.yaml`` / ``dvc.lock`` /
``*.dvc`` files (also at a git revision), hashing outputs like DVC does, and reading a
DVC-tracked file as it was at a git revision.

Hashes are DVC 3's: a file's hash is the md5 of its raw bytes; a folder's hash is the md5
of DVC's JSON listing of its files, with the suffix ``.dir``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci import gitutil
from ml_ci.errors import ExternalToolError, InputError

LOCK_FILE = "dvc.lock"
PIPELINE_FILE = "dvc.yaml"

#: Keeps DVC offline: no analytics, no Studio. (The update check is off in the repo config:
#: ``core.check_update false``; DVC has no environment variable for it.)
DVC_QUIET_ENV = {"DVC_NO_ANALYTICS": "1", "DVC_STUDIO_OFFLINE": "1"}


@dataclass(frozen=True)
class TrackedEntry:
    """One dependency or output in ``dvc.lock`` (or one ``.dvc`` file's output)."""

    path: str
    hash: str | None
    stage: str | None
    kind: str  # "dep", "out" or "data" (a `dvc add`-ed file)
    size: int | None = None
    cache: bool = True

    @property
    def is_dir(self) -> bool:
        return bool(self.hash and self.hash.endswith(".dir"))


@dataclass(frozen=True)
class StageLock:
    """One stage of ``dvc.lock``."""

    name: str
    cmd: str
    deps: tuple[TrackedEntry, ...] = ()
    outs: tuple[TrackedEntry, ...] = ()
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DvcLock:
    """A parsed ``dvc.lock``: its stages in file order."""

    stages: dict[str, StageLock]

    def outs(self, stages: list[str] | None = None) -> list[TrackedEntry]:
        """Outputs of ``stages`` (all when None), in lock order."""
        names = list(self.stages) if stages is None else stages
        return [out for name in names if name in self.stages for out in self.stages[name].outs]

    def deps(self) -> list[TrackedEntry]:
        return [dep for stage in self.stages.values() for dep in stage.deps]

    def params(self) -> dict[str, dict[str, Any]]:
        """file -> {key: value} merged over the stages (the values DVC recorded)."""
        merged: dict[str, dict[str, Any]] = {}
        for stage in self.stages.values():
            for file, values in stage.params.items():
                merged.setdefault(file, {}).update(values)
        return merged


# --- running dvc ---------------------------------------------------------------------------


def dvc_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a ``dvc`` subprocess.

    ``python`` in stage commands resolves to the interpreter running ml-ci (its folder goes
    first on PATH), so stages see the same packages; DVC stays offline and quiet.
    """
    env = dict(os.environ)
    env.update(DVC_QUIET_ENV)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if extra:
        env.update(extra)
    return env


def run_dvc(
    args: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``dvc args`` with this interpreter's DVC; a failure is one-line ExternalToolError."""
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=cwd,
        env=env if env is not None else dvc_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise ExternalToolError(f"dvc {' '.join(args)} failed in {cwd}: {last_error_line(done)}")
    return done


def last_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The most telling line of a failed command's output (DVC puts it in an ERROR line)."""
    lines = [line.strip() for line in (done.stderr + "\n" + done.stdout).splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if line.startswith("ERROR")]
    if errors:
        return errors[-1].removeprefix("ERROR:").strip()
    return lines[-1] if lines else f"exit status {done.returncode}"


# --- repository checks ---------------------------------------------------------------------


def require_dvc_repo(root: Path) -> None:
    """One-line InputError unless ``root`` is a DVC repository."""
    if not (root / ".dvc").is_dir():
        raise InputError(
            f"{root}: not a DVC repository (no .dvc/ folder); run `dvc init` there first"
        )


def stage_names(root: Path) -> list[str]:
    """Stage names declared in ``dvc.yaml`` (empty when there is none)."""
    data = _load_yaml_file(root / PIPELINE_FILE)
    stages = data.get("stages") if isinstance(data, dict) else None
    return list(stages) if isinstance(stages, dict) else []


def check_targets(root: Path, targets: list[str]) -> None:
    """Every target must be a stage of ``dvc.yaml`` (``stage`` or ``dvc.yaml:stage``)."""
    known = stage_names(root)
    for target in targets:
        name = target.split(":", 1)[1] if ":" in target else target
        base = name.split("@", 1)[0]  # foreach stages: name@item
        if name not in known and base not in known:
            listed = ", ".join(known) or "none"
            raise InputError(
                f"{target!r} is not a stage of {root / PIPELINE_FILE}; stages: {listed}"
            )


# --- parsing dvc.lock / .dvc files -----------------------------------------------------------


def parse_lock(text: str, *, source: str = LOCK_FILE) -> DvcLock:
    """Parse the text of a ``dvc.lock`` (schema 2.0)."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise InputError(f"{source}: malformed YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("stages", {}), dict):
        raise InputError(f"{source}: not a dvc.lock file (no 'stages' mapping)")
    stages: dict[str, StageLock] = {}
    for name, body in (data.get("stages") or {}).items():
        body = body or {}
        stages[name] = StageLock(
            name=name,
            cmd=str(body.get("cmd", "")),
            deps=tuple(_entry(item, name, "dep") for item in body.get("deps") or []),
            outs=tuple(_entry(item, name, "out") for item in body.get("outs") or []),
            params={str(k): dict(v or {}) for k, v in (body.get("params") or {}).items()},
        )
    return DvcLock(stages=stages)


def _entry(item: dict[str, Any], stage: str | None, kind: str) -> TrackedEntry:
    """One lock/.dvc item; DVC 3 writes ``md5``, DVC 2 era files may say ``etag``/``checksum``."""
    value = item.get("md5") or item.get("etag") or item.get("checksum")
    size = item.get("size")
    return TrackedEntry(
        path=str(item["path"]),
        hash=str(value) if value else None,
        stage=stage,
        kind=kind,
        size=int(size) if isinstance(size, int) else None,
        cache=bool(item.get("cache", True)),
    )


def read_lock(root: Path) -> DvcLock | None:
    """The working tree's ``dvc.lock``, or None when there is none."""
    path = root / LOCK_FILE
    if not path.is_file():
        return None
    return parse_lock(path.read_text(encoding="utf-8"), source=str(path))


def read_lock_at(root: Path, rev: str) -> DvcLock | None:
    """``dvc.lock`` as committed at ``rev`` (None when that commit has none)."""
    data = gitutil.show_file(root, rev, LOCK_FILE)
    if data is None:
        return None
    return parse_lock(data.decode("utf-8"), source=f"{LOCK_FILE}@{rev}")


def dvc_files_at(root: Path, rev: str) -> list[TrackedEntry]:
    """Outputs of every ``*.dvc`` file committed at ``rev`` (data added with ``dvc add``)."""
    import yaml

    listing = gitutil.git(["ls-tree", "-r", "--name-only", rev], root)
    entries: list[TrackedEntry] = []
    for name in listing.splitlines():
        if not name.endswith(".dvc"):
            continue
        data = gitutil.show_file(root, rev, name)
        try:
            parsed = yaml.safe_load(data or b"") or {}
        except yaml.YAMLError:
            continue  # not our problem here: `dvc` itself reports broken .dvc files
        folder = Path(name).parent
        for item in parsed.get("outs") or []:
            entry = _entry(item, None, "data")
            entries.append(
                TrackedEntry(
                    path=(folder / entry.path).as_posix(),
                    hash=entry.hash,
                    stage=None,
                    kind="data",
                    size=entry.size,
                )
            )
    return entries


def params_at(root: Path, rev: str, files: list[str]) -> dict[str, dict[str, Any]]:
    """Parameter files (YAML/JSON) as committed at ``rev``; files absent there are skipped."""
    import yaml

    found: dict[str, dict[str, Any]] = {}
    for name in files:
        data = gitutil.show_file(root, rev, name)
        if data is None:
            continue
        try:
            parsed = yaml.safe_load(data) or {}
        except yaml.YAMLError:
            continue
        if isinstance(parsed, dict):
            found[name] = parsed
    return found


def _load_yaml_file(path: Path) -> Any:
    import yaml

    if not path.is_file():
        return {}
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise InputError(f"{path}: malformed YAML: {error}") from None


# --- hashing -------------------------------------------------------------------------------


def file_md5(path: Path) -> str:
    """DVC 3's file hash: md5 of the raw bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dir_md5(path: Path) -> str:
    """DVC 3's folder hash (``<md5>.dir``), computed by dvc-data itself."""
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_objects.fs.local import LocalFileSystem
    from dvc_objects.fs.memory import MemoryFileSystem

    odb = HashFileDB(MemoryFileSystem(), "memory://ml-ci-hash")  # type: ignore[no-untyped-call]
    fs = LocalFileSystem()  # type: ignore[no-untyped-call]
    _, _, obj = build(odb, str(path), fs, "md5", dry_run=True)
    return str(obj.hash_info.value)


def hash_path(path: Path) -> str | None:
    """The DVC hash of a file or folder, or None when it does not exist."""
    if path.is_file():
        return file_md5(path)
    if path.is_dir():
        return dir_md5(path)
    return None


def cache_object(root: Path, value: str) -> Path:
    """Where DVC 3's local cache keeps the object with hash ``value`` (default cache dir)."""
    return root / ".dvc" / "cache" / "files" / "md5" / value[:2] / value[2:]


# --- reading a tracked file at a revision --------------------------------------------------


def read_tracked(root: Path, path: str, rev: str | None = None, *, key: str | None = None) -> bytes:
    """The bytes of a DVC-tracked (or git-tracked) file as it is at ``rev``.

    Uses the local cache, else the default remote (``dvc.api.read``). One-line InputError
    when the file is not tracked at ``rev`` (naming ``key``, the config key that gave the
    path, e.g. ``model.path``) or its data is in neither place.
    """
    import dvc.api
    from dvc.exceptions import DvcException, PathMissingError

    sha = None if rev is None else gitutil.resolve_ref(root, rev)
    where = "in the working tree" if sha is None else f"at {sha[:12]}"
    try:
        data: bytes = dvc.api.read(path, repo=str(root), rev=sha, mode="rb")
    except (FileNotFoundError, IsADirectoryError, PathMissingError):
        named = f"{key} {path!r}" if key else repr(path)
        fix = f"; fix {key} in ml-ci.yaml" if key else "; check the path"
        raise InputError(
            f"{named} is not a DVC output or a git file {where} "
            f"(not in dvc.lock, a .dvc file or git){fix}"
        ) from None
    except DvcException as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(
            f"{path} {where}: cannot read the DVC-tracked data: {first}; "
            "run `ml-ci pull` or check the remote"
        ) from None
    return data


def with_progress(progress: Callable[[str], None] | None) -> Callable[[str], None]:
    """``progress`` or a no-op, so engine code can always call it."""
    return progress if progress is not None else (lambda _message: None)
