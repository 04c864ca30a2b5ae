"""The approved-source catalog: where data may come from, which features and model types.

``governance.catalog`` names a YAML file (read from the BASE branch in the pull-request
check: a pull request cannot approve its own source)::

    sources:      # DVC import-url / import sources and external stage dependencies (patterns)
      - https://data.example.com/*
      - git@github.com:acme/datasets.git
    remotes:      # DVC remote URLs in .dvc/config (patterns)
      - s3://acme-ml/*
    paths:        # DVC-tracked paths in the repository: dvc add-ed data, stage deps/outs
      - data/*
      - models/*
    features:     # approved feature columns (the pull-request check reads the data)
      - mean_radius
    model_types:  # approved estimator classes
      - sklearn.linear_model.LogisticRegression
    model_type:   # where the model type is declared: a key of a params file
      params: params.yaml
      key: train.model

Patterns are shell-style (``fnmatch``: ``*`` also matches ``/``). A missing list means "not
restricted"; an empty list allows nothing. The model type is read from the params file, never
by unpickling the model. Each violation is one line naming the file and the entry.

Everything here reads files through a ``read(path) -> bytes | None`` function, so the same
checks run on the working tree (pre-commit hook) or on a commit (``git show``); nothing
imports DVC.
"""

from __future__ import annotations

import configparser
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

Reader = Callable[[str], bytes | None]
KEYS = ("sources", "remotes", "paths", "features", "model_types", "model_type")


class CatalogError(ValueError):
    """The catalog file itself is invalid (one line, names the file and key)."""


@dataclass(frozen=True)
class Catalog:
    origin: str  # where it was read from, for messages (e.g. "main:governance/catalog.yaml")
    sources: tuple[str, ...] | None = None
    remotes: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    features: tuple[str, ...] | None = None
    model_types: tuple[str, ...] | None = None
    model_type_params: str | None = None
    model_type_key: str | None = None


@dataclass(frozen=True)
class Violation:
    file: str
    what: str  # e.g. "import source https://..."
    section: str  # the catalog list it is missing from

    def line(self, catalog: Catalog) -> str:
        return (
            f"{self.file}: {self.what} is not approved (not in {self.section} of "
            f"{catalog.origin}); add it there through a reviewed change, or remove it"
        )


def _strings(data: dict[str, Any], key: str, origin: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(f"{origin}: {key} must be a list of non-empty strings")
    return tuple(value)


def parse_catalog(text: str, origin: str) -> Catalog:
    """Validate and read a catalog file's text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{origin}: not valid YAML ({str(error).splitlines()[0]})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError(f"{origin}: must be a mapping with keys {', '.join(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise CatalogError(f"{origin}: unknown key {unknown[0]!r}; allowed: {', '.join(KEYS)}")
    where = data.get("model_type")
    params = key = None
    if where is not None:
        if not (isinstance(where, dict) and set(where) == {"params", "key"}):
            raise CatalogError(f"{origin}: model_type must be {{params: FILE, key: dotted.key}}")
        params, key = str(where["params"]), str(where["key"])
    return Catalog(
        origin=origin,
        sources=_strings(data, "sources", origin),
        remotes=_strings(data, "remotes", origin),
        paths=_strings(data, "paths", origin),
        features=_strings(data, "features", origin),
        model_types=_strings(data, "model_types", origin),
        model_type_params=params,
        model_type_key=key,
    )


def _allowed(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def _yaml(read: Reader, path: str) -> Any:
    data = read(path)
    if data is None:
        return None
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None  # another check (dvc-lock, config) reports a broken file


def dvc_remotes(read: Reader) -> list[tuple[str, str]]:
    """(name, url) of the remotes in the committed ``.dvc/config``."""
    data = read(".dvc/config")
    if data is None:
        return []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"))
    except (UnicodeDecodeError, configparser.Error):
        return []
    found = []
    for section in parser.sections():
        name = section.strip("'\"")
        if name.startswith("remote ") and parser.has_option(section, "url"):
            found.append((name[len("remote ") :].strip('"'), parser.get(section, "url")))
    return found


def _is_url(path: str) -> bool:
    return "://" in path or path.startswith("git@")


def check_sources(catalog: Catalog, read: Reader, dvc_files: Iterable[str]) -> list[Violation]:
    """Remotes, imported sources and tracked paths against the catalog.

    ``dvc_files``: the ``*.dvc`` files of the tree (``dvc.yaml`` is read through ``read``)."""
    found: list[Violation] = []
    if catalog.remotes is not None:
        for name, url in dvc_remotes(read):
            if not _allowed(url, catalog.remotes):
                found.append(Violation(".dvc/config", f"remote {name!r} ({url})", "remotes"))
    for file in sorted(dvc_files):
        data = _yaml(read, file) or {}
        for source in _import_sources(data):
            if catalog.sources is not None and not _allowed(source, catalog.sources):
                found.append(Violation(file, f"import source {source}", "sources"))
        for path in _paths(data.get("outs")):
            tracked = _join(file, path)
            if catalog.paths is not None and not _allowed(tracked, catalog.paths):
                found.append(Violation(file, f"DVC-tracked path {tracked}", "paths"))
    stages = (_yaml(read, "dvc.yaml") or {}).get("stages") or {}
    for name, stage in stages.items() if isinstance(stages, dict) else []:
        if not isinstance(stage, dict):
            continue
        for path in _paths(stage.get("deps")):
            external = _is_url(path)
            if external and catalog.sources is not None and not _allowed(path, catalog.sources):
                found.append(Violation("dvc.yaml", f"stage {name}'s dependency {path}", "sources"))
        for path in _paths(stage.get("outs")):
            if catalog.paths is not None and not _allowed(path, catalog.paths):
                found.append(Violation("dvc.yaml", f"stage {name}'s output {path}", "paths"))
    return found


def _paths(entries: Any) -> list[str]:
    """Paths of a deps/outs list, whose items are strings or one-key mappings or {path: ...}."""
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            found.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            found.append(entry["path"])
        elif isinstance(entry, dict) and len(entry) == 1:
            found.append(str(next(iter(entry))))  # `- models/model.pkl: {cache: true}`
    return found


def _import_sources(dvc_file: dict[str, Any]) -> list[str]:
    """What a .dvc file imports: ``dvc import``'s repository URL or ``import-url``'s URL."""
    found = []
    for dep in dvc_file.get("deps") or []:
        if not isinstance(dep, dict):
            continue
        repo = dep.get("repo")
        if isinstance(repo, dict) and isinstance(repo.get("url"), str):
            found.append(repo["url"])
        elif isinstance(dep.get("path"), str) and _is_url(dep["path"]):
            found.append(dep["path"])
    return found


def _join(dvc_file: str, path: str) -> str:
    folder = dvc_file.rsplit("/", 1)[0] if "/" in dvc_file else ""
    return f"{folder}/{path}" if folder else path


def model_type(catalog: Catalog, read: Reader) -> tuple[str, str | None]:
    """(where, the declared model type) from the params file named in the catalog."""
    if catalog.model_type_params is None or catalog.model_type_key is None:
        return "", None
    where = f"{catalog.model_type_params}:{catalog.model_type_key}"
    value: Any = _yaml(read, catalog.model_type_params)
    for part in catalog.model_type_key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return where, value if isinstance(value, str) else None


def check_model_type(catalog: Catalog, read: Reader) -> list[Violation]:
    if catalog.model_types is None:
        return []
    where, declared = model_type(catalog, read)
    if not where:
        raise CatalogError(
            f"{catalog.origin}: model_types needs model_type: {{params: FILE, key: dotted.key}}"
        )
    file, key = where.split(":", 1)
    if declared is None:
        return [Violation(file, f"a model type at key {key} (missing)", "model_types")]
    if declared not in catalog.model_types:
        return [Violation(file, f"model type {declared}", "model_types")]
    return []


def check_features(catalog: Catalog, columns: Iterable[str], data_file: str) -> list[Violation]:
    """Feature columns of the evaluation data (label and id columns already removed)."""
    if catalog.features is None:
        return []
    return [
        Violation(data_file, f"feature column {column!r}", "features")
        for column in columns
        if column not in catalog.features
    ]


# ---------------------------------------------------------------- the pull-request check
@dataclass
class CatalogCheck:
    """What ``ml-ci catalog`` found (``catalog`` None: none is configured on the base)."""

    catalog: Catalog | None
    violations: list[Violation]
    changed: bool
    base: str | None

    @property
    def verdict(self) -> str:
        if self.catalog is None:
            return "none"
        return "fail" if self.violations else "pass"

    def lines(self) -> list[str]:
        assert self.catalog is not None or not self.violations
        return [v.line(self.catalog) for v in self.violations] if self.catalog else []


def feature_columns(columns: Iterable[str], excluded: Iterable[str]) -> list[str]:
    """The evaluation data's columns that are features: all but the excluded (ids, labels)."""
    skip = set(excluded)
    return [column for column in columns if column not in skip]


def check_pull_request(
    root: Any, config: Any, config_relative: str, *, columns: list[str] | None, data_file: str
) -> CatalogCheck:
    """The catalog named by the BASE branch's config, read from the base branch, against the
    working tree: sources, model type and (when ``columns`` are given) feature columns."""
    from ml_ci import gitutil
    from ml_ci.config import load_config_at
    from ml_ci.lineage import find_base

    base = find_base(root, ref=None, default_branch=config.baseline.default_branch)
    if base is None:
        raise CatalogError(
            f"governance.catalog: no base branch {config.baseline.default_branch!r} to read the "
            "catalog from (a pull request cannot approve its own sources); fetch it"
        )
    base_config = load_config_at(root, base.sha, config_relative) or config
    named = base_config.governance.catalog
    if named is None:
        return CatalogCheck(None, [], False, base.sha)
    text = gitutil.show_file(root, base.sha, named)
    if text is None:
        raise CatalogError(
            f"governance.catalog: {named} does not exist on {base.ref} ({base.sha[:12]}); "
            "commit the catalog to the base branch first"
        )
    catalog = parse_catalog(text.decode("utf-8", "replace"), f"{base.ref}:{named}")
    head_file = root / named
    changed = not head_file.is_file() or head_file.read_bytes() != text

    def read(path: str) -> bytes | None:
        file = root / path
        return file.read_bytes() if file.is_file() else None

    listed = gitutil.git(["ls-files", "-co", "--exclude-standard", "--", "*.dvc"], root)
    violations = check_sources(catalog, read, [n for n in listed.splitlines() if n])
    violations += check_model_type(catalog, read)
    if columns is not None:
        violations += check_features(catalog, columns, data_file)
    return CatalogCheck(catalog, violations, changed, base.sha)
