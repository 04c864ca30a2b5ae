"""The environment a model was trained and evaluated in, as comparable keys.

``fingerprint(root)`` returns, each key a string (or ``None`` when unknown):

* ``python``: ``3.11.9`` (the interpreter running ml-ci, which runs the stages' ``python``);
* ``platform``: ``Linux-x86_64`` (system and machine; not the kernel build);
* ``lockfile``: ``<file>:sha256:<hex>`` of the lock file (:func:`choose_lockfile`:
  ``release.lockfile``, else the first of :data:`LOCK_FILES`, else a ``requirements*.txt``
  whose every requirement is pinned), its bytes in the working tree; ``None``: no lock;
* ``packages``: ``sha256:<hex>`` of the sorted ``name==version`` lines (PEP 503 names) of every
  installed distribution (what ``pip list`` shows, without running pip);
* ``image``: the container image digest from the environment variable named by
  ``image_env`` (e.g. a job container's ``ML_CI_IMAGE_DIGEST=sha256:...`` set by the workflow);
* ``dvc``, ``ml_ci``: the versions.

``diff(base, head)`` lists the keys whose values differ (the report's diff). A pull request's
claimed fingerprint is shown, never trusted: the release computes its own and checks it
against what the merged commit states (:func:`environment_problems`: its lock file's pins,
its declared Python) on the keys ``release.require_fingerprint`` names.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.record import BaseEnvironment, EnvironmentSection

#: Auto-detected lock files, first found wins; then ``requirements*.txt`` files (sorted) in
#: which every requirement is pinned with ``==`` (a list of ranges is not a lock).
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "conda-lock.yml",
    "requirements.lock",
)
KEYS = ("python", "platform", "lockfile", "packages", "image", "dvc", "ml_ci")
#: The keys the merged commit itself states, so ``release.require_fingerprint`` can require them:
#: the lock file's hash and pins, the Python it declares, the dvc and ml-ci versions it pins.
CHECKABLE = ("lockfile", "python", "dvc", "ml_ci")
_REQUIREMENTS = re.compile(r"requirements[^/]*\.txt")


def lock_candidates(names: list[str]) -> list[str]:
    """The lock files among ``names`` (files at the repository root), in the order tried."""
    present = set(names)
    found = [name for name in LOCK_FILES if name in present]
    return found + sorted(name for name in present if _REQUIREMENTS.fullmatch(name))


def choose_lockfile(
    content: Mapping[str, bytes], configured: str | None = None
) -> tuple[str, bytes] | None:
    """(name, bytes) of the lock file: ``configured`` when set (``None`` when absent), else the
    first of :func:`lock_candidates` that is a lock (a requirements file counts when pinned)."""
    if configured is not None:
        data = content.get(configured)
        return (configured, data) if data is not None else None
    for name in lock_candidates(list(content)):
        data = content[name]
        if not _REQUIREMENTS.fullmatch(name) or _all_pinned(data):
            return name, data
    return None


def lockfile_key(
    root: Path, content: Mapping[str, bytes] | None = None, configured: str | None = None
) -> str | None:
    """``<file>:sha256:<hex>`` of the lock file (:func:`choose_lockfile`); ``content``
    (file -> bytes) replaces the working tree, e.g. with the files of a commit."""
    files = content if content is not None else working_tree_locks(root, configured)
    chosen = choose_lockfile(files, configured)
    if chosen is None:
        return None
    return f"{chosen[0]}:sha256:{hashlib.sha256(chosen[1]).hexdigest()}"


def working_tree_locks(root: Path, configured: str | None = None) -> dict[str, bytes]:
    """The candidate lock files at ``root`` (and ``configured``) with their bytes."""
    try:
        names = [entry.name for entry in root.iterdir() if entry.is_file()]
    except OSError:
        names = []
    wanted = lock_candidates(names) + ([configured] if configured else [])
    found = {name: _read(root / name) for name in wanted}
    return {name: data for name, data in found.items() if data is not None}


def _logical_lines(text: str) -> list[str]:
    """The lines of a requirements file: comments and continuations out, options kept."""
    text = text.replace("\r\n", "\n").replace("\\\n", " ")
    # ``name==1.0 --hash=sha256:...``: the options after a requirement are not part of it
    # ``#`` after whitespace (a space or a tab) starts a comment, as pip reads it
    lines = [_OPTIONS.split(_COMMENT.sub("", line), 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


_COMMENT = re.compile(r"(?:^|\s)#.*$")
_OPTIONS = re.compile(r"\s+--")


def _requirement_lines(text: str) -> list[str]:
    """Requirement lines of a requirements file: comments, options and continuations out."""
    return [line for line in _logical_lines(text) if not line.startswith("-")]


def _all_pinned(data: bytes) -> bool:
    lines = _requirement_lines(data.decode("utf-8", errors="replace"))
    return bool(lines) and all(_PIN.match(line) for line in lines)


_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?P<op>===?)\s*"
    r"(?P<version>[^\s;,]+)\s*(?:;(?P<marker>.*))?$"
)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def canonical_name(name: str) -> str:
    """PEP 503: lowercase, runs of ``-_.`` become one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def packages_key() -> str:
    """sha256 of the sorted ``name==version`` lines of the installed distributions."""
    from importlib.metadata import distributions

    lines = sorted(
        {
            f"{canonical_name(dist.metadata['Name'])}=={dist.version}"
            for dist in distributions()
            if dist.metadata["Name"]
        }
    )
    return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def fingerprint(
    root: Path,
    *,
    image_env: str | None = None,
    environ: Mapping[str, str] | None = None,
    lockfile: str | None = None,
) -> dict[str, str | None]:
    """The environment's keys (see the module doc)."""
    from ml_ci import __version__

    env = os.environ if environ is None else environ
    from importlib.metadata import PackageNotFoundError, version

    try:
        dvc: str | None = version("dvc")
    except PackageNotFoundError:  # not installed: the key is unknown, not an error
        dvc = None
    return {
        "python": ".".join(str(part) for part in sys.version_info[:3]),
        "platform": f"{platform.system()}-{platform.machine()}",
        "lockfile": lockfile_key(root, configured=lockfile),
        "packages": packages_key(),
        "image": image_digest(env, image_env),
        "dvc": dvc,
        "ml_ci": __version__,
    }


#: ``sha256:<64 hex>``, optionally after an image name (``ghcr.io/acme/train@sha256:...``).
IMAGE_DIGEST = re.compile(r"(?:[a-z0-9][a-z0-9._/:-]*@)?sha256:[0-9a-f]{64}")


def image_digest(env: Mapping[str, str], name: str | None) -> str | None:
    """The digest in variable ``name`` (``None``: no name, or the variable unset/empty); a
    value that is not a digest is an error, so the record never holds another secret."""
    value = env.get(name) if name else None
    if not value:
        return None
    if not IMAGE_DIGEST.fullmatch(value.strip()):
        from ml_ci.errors import ConfigError

        raise ConfigError(
            f"release.image_env: ${name} is not an image digest (sha256:<64 hex>, optionally "
            "after the image name and @); set it to the job container's digest"
        )
    return value.strip()


def check_settings(config: Config, environ: Mapping[str, str] | None = None) -> None:
    """Raise :class:`~ml_ci.errors.ConfigError` now for what :func:`record_environment` would
    refuse at the end (``$release.image_env`` not a digest): a command checks before its
    work, so a bad input costs no computation and loses no result."""
    image_digest(os.environ if environ is None else environ, config.release.image_env)


def diff(
    base: Mapping[str, str | None], head: Mapping[str, str | None]
) -> list[tuple[str, str | None, str | None]]:
    """(key, base value, head value) of every key whose value differs."""
    return [(key, base.get(key), head.get(key)) for key in KEYS if base.get(key) != head.get(key)]


# ---------------------------------------------------------------- what a lock file states
#: Reads a file of the commit by its repository path (``None``: not there), for ``-r``/``-c``.
Reader = Callable[[str], bytes | None]


def locked_pins(
    name: str, data: bytes, read: Reader | None = None
) -> tuple[dict[str, set[str]], bool]:
    """(PEP 503 name -> the versions the lock file allows, strict). ``strict``: the file is
    one flat environment (a requirements file), so a pin that is not installed is a mismatch;
    the other formats lock every platform and optional group, so only the installed
    distributions they name are compared. A version is the ``==`` pin's text, or ``===``
    and the text of an arbitrary-equality pin. A requirements file's ``-r``/``-c`` includes
    are read with ``read`` (see :func:`_requirements`). Unreadable files raise
    :class:`ValueError`."""
    pins, strict, _constraints = _lock(name, data, read)
    return pins, strict


def _lock(
    name: str, data: bytes, read: Reader | None
) -> tuple[dict[str, set[str]], bool, set[str]]:
    """:func:`locked_pins` and the names pinned only by a ``-c`` constraints file (compared
    when installed, never required: a constraint does not install anything)."""
    import json
    import tomllib

    pins: dict[str, set[str]] = {}
    kind = _file_name(name)  # the format is the file name's (release.lockfile may be in a folder)

    def add(package: object, version: object) -> None:
        if isinstance(package, str) and isinstance(version, str) and version:
            arbitrary = version.startswith("===")
            version = version.lstrip("=")
            if version:
                pins.setdefault(canonical_name(package), set()).add(
                    "===" + version if arbitrary else version
                )

    if kind.endswith(".txt") or kind == "requirements.lock":
        return _requirements(name, data, read)  # its errors are one line already
    try:
        if kind.endswith(".lock") and kind != "Pipfile.lock":  # uv, poetry, pdm: TOML
            for package in tomllib.loads(data.decode("utf-8")).get("package", []):
                if isinstance(package, dict):
                    add(package.get("name"), package.get("version"))
        elif kind == "Pipfile.lock":
            document = json.loads(data)
            for group in ("default", "develop"):
                for package, spec in (document.get(group) or {}).items():
                    add(package, spec.get("version") if isinstance(spec, dict) else None)
        else:  # conda-lock.yml
            import yaml

            for package in (yaml.safe_load(data) or {}).get("package", []) or []:
                if isinstance(package, dict):
                    add(package.get("name"), str(package.get("version") or ""))
    except (ValueError, AttributeError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"{name} cannot be read as a lock file ({error})") from None
    except Exception as error:  # yaml's errors: one line, not a traceback
        raise ValueError(f"{name} cannot be read as a lock file ({type(error).__name__})") from None
    return pins, False, set()


class _IncludeError(Exception):
    """A requirements file that cannot be read or followed (its message is the one line)."""


_INCLUDE = re.compile(r"^(?:(-[rc])|(--requirement|--constraint)(?=[\s=]|$))\s*=?\s*(.*)$")


def _requirements(
    name: str, data: bytes, read: Reader | None
) -> tuple[dict[str, set[str]], bool, set[str]]:
    """The pins of a requirements file and of the files it includes (``-r``/``--requirement``
    and ``-c``/``--constraint``, a path relative to the including file, as pip reads it), each
    read once with ``read``; an include loop, a path outside the repository or a URL, a
    missing file, or no ``read`` at all is an error: an include is never skipped."""
    pins: dict[str, set[str]] = {}
    constraints: dict[str, set[str]] = {}
    done: set[str] = set()

    def visit(path: str, content: bytes, chain: list[str], constraint: bool) -> None:
        done.add(path)
        if b"\x00" in content:
            raise _IncludeError(f"{path} cannot be read as a lock file (binary, not text)")
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise _IncludeError(f"{path} cannot be read as a lock file ({error})") from None
        for line in _logical_lines(text):
            include = _INCLUDE.match(line)
            if include:
                flag = include.group(1) or include.group(2)
                target = _include_path(path, flag, include.group(3).strip(), chain, read)
                if target in done:
                    continue  # included twice (not a loop): read once
                assert read is not None  # _include_path refuses without a reader
                included = read(target)
                if included is None:
                    raise _IncludeError(
                        f"{path}: {flag} {include.group(3).strip()}: {target} does not exist "
                        "at the commit; commit it or remove the include"
                    )
                nested = constraint or flag in ("-c", "--constraint")
                visit(target, included, [*chain, target], nested)
                continue
            if line.startswith("-"):
                continue  # another option (-e ., --index-url ...): not a pin
            match = _PIN.match(line)
            if match and _marker_applies(match.group("marker")):
                into = constraints if constraint else pins
                version = ("===" if match.group("op") == "===" else "") + match.group("version")
                into.setdefault(canonical_name(match.group("name")), set()).add(version)

    try:
        visit(name, data, [name], False)
    except _IncludeError as error:
        raise ValueError(str(error)) from None
    only_constrained = set(constraints) - set(pins)
    for package, versions in constraints.items():
        pins.setdefault(package, set()).update(versions)
    return pins, True, only_constrained


def _include_path(
    current: str, flag: str, value: str, chain: list[str], read: Reader | None
) -> str:
    """The repository path ``-r value`` in ``current`` names (see :func:`_requirements`)."""
    import posixpath

    shown = f"{current}: {flag} {value}".rstrip()
    if not value:
        raise _IncludeError(f"{shown} names no file; give the file to include")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and not re.match(r"^[A-Za-z]:[/\\]", value):
        raise _IncludeError(
            f"{shown} is not a file in the repository; commit the file and include its path"
        )
    path = value.replace("\\", "/")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(current), path))
    if path.startswith("/") or re.match(r"^[A-Za-z]:/", path) or target.split("/")[0] == "..":
        raise _IncludeError(f"{shown} is outside the repository; include a file inside it")
    if target in chain:
        loop = " -> ".join([*chain[chain.index(target) :], target])
        raise _IncludeError(f"{shown} is an include loop ({loop}); remove one of the includes")
    if read is None:
        raise _IncludeError(
            f"{shown} cannot be followed without the commit to read it from; "
            "pass the commit's files"
        )
    return target


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _marker_applies(marker: str | None) -> bool:
    if not marker or not marker.strip():
        return True
    from packaging.markers import InvalidMarker, Marker

    try:
        return bool(Marker(marker.strip()).evaluate())
    except InvalidMarker:
        return True  # compared, so a typo cannot hide a pin


def declared_python(
    name: str | None, data: bytes | None, python_version: bytes | None
) -> str | None:
    """The Python the commit declares: ``.python-version`` (``3.11`` or ``3.11.9``), else the
    lock file's requirement (uv ``requires-python``, pdm ``requires_python``, poetry
    ``python-versions``, Pipfile.lock ``python_full_version``/``python_version``, conda-lock's
    ``python`` package)."""
    if python_version is not None:
        lines = python_version.decode("utf-8", errors="replace").split()
        if lines:
            return lines[0]
    if name is None or data is None:
        return None
    import json
    import tomllib

    kind = _file_name(name)
    try:
        if kind in ("uv.lock", "pdm.lock", "poetry.lock"):
            document = tomllib.loads(data.decode("utf-8"))
            meta = document.get("metadata") or {}
            value = document.get("requires-python") or meta.get("requires_python")
            value = value or meta.get("python-versions")
            return value if isinstance(value, str) else None
        if kind == "Pipfile.lock":
            requires = (json.loads(data).get("_meta") or {}).get("requires") or {}
            value = requires.get("python_full_version") or requires.get("python_version")
            return value if isinstance(value, str) else None
        if kind == "conda-lock.yml":
            versions = locked_pins(name, data)[0].get("python")
            return sorted(versions)[0] if versions and len(versions) == 1 else None
    except (ValueError, AttributeError, TypeError, UnicodeDecodeError):
        return None
    return None


def python_matches(declared: str, actual: str) -> bool | None:
    """``actual`` (``3.11.9``) satisfies ``declared``: a version is a prefix (``3.11``), a
    specifier a PEP 440 range (``>=3.11,<3.13``); ``None`` when it is neither (poetry's ``^``)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = declared.strip()
    if re.fullmatch(r"\d+(\.\d+){0,2}", text):
        return actual == text or actual.startswith(text + ".")
    try:
        return SpecifierSet(text).contains(actual, prereleases=True)
    except InvalidSpecifier:
        return None


def installed_versions() -> dict[str, str]:
    """PEP 503 name -> version of every installed distribution."""
    from importlib.metadata import distributions

    return {
        canonical_name(dist.metadata["Name"]): dist.version
        for dist in distributions()
        if dist.metadata["Name"]
    }


def version_matches(pinned: str, installed: str, arbitrary: bool = False) -> bool:
    """``installed`` is the version ``==pinned`` names (PEP 440: ``1.26`` is ``1.26.0``; a
    pin without a local label ignores the installed one's, ``+cpu``, a pin with one requires
    it). ``arbitrary`` (``===``): the same text, ignoring case as ``packaging`` and pip do.
    A version that is not PEP 440 (``1.*`` is a range, not a pin) is compared as text."""
    from packaging.version import Version

    if arbitrary:
        return pinned.lower() == installed.lower()
    try:
        want, have = Version(pinned), Version(installed)
    except ValueError:  # InvalidVersion, or a number too long to convert
        return pinned == installed
    if want.local is None:
        have = Version(have.public)
    return want == have


def _allows(versions: set[str], installed: str | None) -> bool:
    """``installed`` is one of the lock file's ``versions`` (``===`` marks arbitrary ones)."""
    return installed is not None and any(
        version_matches(v[3:], installed, True)
        if v.startswith("===")
        else version_matches(v, installed)
        for v in versions
    )


def _shown(name: str, versions: set[str]) -> str:
    """``numpy==1.26.0`` (``|`` between versions; ``===`` as the file says it)."""
    shown = (v if len(v) <= 40 else v[:37] + "..." for v in sorted(versions))  # one short line
    return name + "|".join(v if v.startswith("===") else f"=={v}" for v in shown)


def environment_problems(
    required: list[str],
    lock: tuple[str, bytes] | None,
    python_version: bytes | None,
    actual: Mapping[str, str | None],
    installed: Mapping[str, str],
    read: Reader | None = None,
) -> list[str]:
    """One line per required key on which this environment (``actual``, ``installed``) does
    not match what the commit states (``lock``: its lock file, its includes read with
    ``read``; ``python_version``: its ``.python-version``). Every line names the key, the
    expected and the actual value. ``lockfile`` also fails when nothing would be compared:
    the file pins nothing, or no package it pins is installed here."""
    unknown = sorted(set(required) - set(CHECKABLE))
    if unknown:
        raise ValueError(f"unknown fingerprint keys {unknown}; use {', '.join(CHECKABLE)}")
    problems: list[str] = []
    pins: dict[str, set[str]] = {}
    strict = False
    constrained: set[str] = set()
    if lock is not None:
        pins, strict, constrained = _lock(lock[0], lock[1], read)
    where = lock[0] if lock else None
    for key in required:
        if key == "python":
            declared = declared_python(where, lock[1] if lock else None, python_version)
            have = actual.get("python") or "-"
            source = ".python-version" if python_version is not None else where
            if declared is None:
                problems.append(
                    "python: the commit declares no Python version (.python-version or the "
                    f"lock file's requires-python), this environment has {have}"
                )
            elif not python_matches(declared, have):
                problems.append(f"python: {source} says {declared}, this environment has {have}")
            continue
        if lock is None:
            problems.append(
                f"{key}: the commit has no lock file ({', '.join(LOCK_FILES)} or a pinned "
                "requirements*.txt), so nothing states what to install"
            )
            continue
        if key == "lockfile":
            problems += _lock_problems(lock, pins, strict, constrained, installed)
            continue
        package = "ml-ci" if key == "ml_ci" else key
        have = actual.get(key) or "-"
        if package not in pins:
            problems.append(f"{key}: {where} does not pin {package}, this environment has {have}")
        elif not _allows(pins[package], actual.get(key)):
            shown = _shown(package, pins[package])
            problems.append(f"{key}: {where} pins {shown}, this environment has {have}")
    return problems


def _lock_problems(
    lock: tuple[str, bytes],
    pins: Mapping[str, set[str]],
    strict: bool,
    constrained: set[str],
    installed: Mapping[str, str],
) -> list[str]:
    """The ``lockfile`` line, if any (see :func:`environment_problems`)."""
    head = f"lockfile: {lock[0]} ({_short_hash(lock[1])})"
    if not pins:  # an empty or foreign file would otherwise pass with nothing compared
        return [
            f"{head} pins nothing (no name==version that applies here); set release.lockfile to the "
            "lock file the environment is installed from"
        ]
    if not set(pins) & set(installed):
        named = ", ".join(_shown(name, pins[name]) for name in sorted(pins)[:3])
        return [
            f"{head} names no package installed here (it pins {named}"
            f"{' and more' if len(pins) > 3 else ''}); install the environment from it"
        ]
    wrong = [
        f"{_shown(name, pins[name])} (installed: {installed.get(name, 'none')})"
        for name in sorted(pins)
        if not _allows(pins[name], installed.get(name))
        and ((strict and name not in constrained) or name in installed)
    ]
    if not wrong:
        return []
    more = f" and {len(wrong) - 3} more" if len(wrong) > 3 else ""
    return [f"{head} pins {', '.join(wrong[:3])}{more}"]


def _short_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]


def tag_value(found: Mapping[str, str | None]) -> str:
    """``key=value`` pairs on one line (a release tag's ``environment`` field); a value that
    is not one plain token is left out, so no value can forge another key or tag field."""
    return " ".join(
        f"{key}={value}"
        for key in KEYS
        if (value := found.get(key)) and _TOKEN.fullmatch(str(value))
    )


_TOKEN = re.compile(r"[A-Za-z0-9._:+/@-]+")


def from_tag_value(text: str) -> dict[str, str | None]:
    """The fingerprint in a tag's ``environment`` field (unknown keys are left out)."""
    pairs = dict(part.split("=", 1) for part in text.split() if "=" in part)
    return {key: pairs.get(key) or None for key in KEYS}


# ---------------------------------------------------------------- the record's section
def commit_reader(root: Path, commit: str) -> Reader:
    """Reads a file of ``commit`` (the lock file's ``-r``/``-c`` includes), not the work tree."""
    from ml_ci import gitutil

    return lambda path: gitutil.show_file(root, commit, path)


def commit_locks(root: Path, commit: str, configured: str | None = None) -> dict[str, bytes]:
    """The candidate lock files (and ``configured``) at the root of ``commit``'s tree."""
    from ml_ci import gitutil

    names = gitutil.git(["ls-tree", "--name-only", commit], root, check=False).splitlines()
    wanted = lock_candidates(names) + ([configured] if configured else [])
    found = {name: gitutil.show_file(root, commit, name) for name in dict.fromkeys(wanted)}
    return {name: data for name, data in found.items() if data is not None}


def base_environment(
    root: Path, model: str, base_sha: str | None, configured: str | None = None
) -> BaseEnvironment | None:
    """The base's fingerprint: the ``environment`` field of the model's release tag at the
    base commit (written by the release that scored it), else the base commit's lock file
    (only ``lockfile`` known), else ``None``."""
    from ml_ci.errors import MlCiError
    from ml_ci.record import BaseEnvironment

    if base_sha is None:
        return None
    try:
        from ml_ci.registry import load_registry

        state = load_registry(root).get(model)
        version = state.version_at(base_sha) if state is not None else None
    except MlCiError:  # no tags readable: fall back to the lock file
        version = None
    if version is not None and version.fields.get("environment"):
        return BaseEnvironment(
            source=f"the release tag of {model} {version.version}",
            **from_tag_value(version.fields["environment"]),
        )
    key = lockfile_key(root, commit_locks(root, base_sha, configured), configured)
    if key is None:
        return None
    return BaseEnvironment(source=f"the lock file at {base_sha[:12]}", lockfile=key)


def record_environment(root: Path, config: Config, base_sha: str | None) -> EnvironmentSection:
    """The pull request run's ``environment`` section: this environment and the base's."""
    from ml_ci.record import EnvironmentSection

    settings = config.release
    found = fingerprint(root, image_env=settings.image_env, lockfile=settings.lockfile)
    return EnvironmentSection(
        **found, base=base_environment(root, config.model.name, base_sha, settings.lockfile)
    )
