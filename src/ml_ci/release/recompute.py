"""Re-derive, in the release job, what the pull request's record only claims.

The record reaching ``ml-ci release`` was written by the pull request's run, which its author
controls (the workflow, the artifact, the committed predictions table). The release job runs
the merged default branch, so it recomputes the verdicts for the merged commit ``M``:

* under the configuration of ``M``'s FIRST PARENT ``P`` (the default branch before the
  merge), so a pull request cannot lower its own bar by editing ``ml-ci.yaml``; references
  are resolved as of ``P`` (``data/train.csv@main`` means ``P``'s file, not ``M``'s);
* the evaluation data of ``M`` are pulled through DVC and BOTH models -- the merged one and
  the baseline (``baseline.stage``'s version, ``baseline.ref`` as of ``P``, else ``P``'s
  model) -- are scored with ``predict.command``; the committed predictions table is not read;
* ``compare`` and ``drift`` run on those scores and tables through their engines.

A commit without a parent is a model's first version: there is no earlier bar, so its own
configuration applies and it is compared with itself (as ``ml-ci compare`` does for it).
When any of this is impossible, :class:`Unrecomputable` says why in one line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ml_ci import gitutil
from ml_ci.errors import InputError

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.record import EvaluationRecord
    from ml_ci.record.compare import CompareSection
    from ml_ci.record.drift import DriftSection

Progress = Callable[[str], None]


class Unrecomputable(Exception):
    """The release cannot recompute the verdicts (message: one line saying why)."""


@dataclass(frozen=True)
class Recomputed:
    record: EvaluationRecord  # what the release carries (no governance/release yet)
    config: Config  # the first parent's configuration: the bar that applied
    parent: str | None  # P (None for a first version)
    baseline: str  # the commit whose model was the baseline
    config_changed: bool  # ml-ci.yaml differs between P and M: governance approval needed


def first_parent(root: Path, commit: str) -> str | None:
    """``commit^1``, or None for a root commit."""
    text = gitutil.git(["rev-list", "--parents", "-n", "1", commit], root)
    parts = text.split()
    return parts[1] if len(parts) > 1 else None


def config_at(root: Path, commit: str, relative: str) -> Config | None:
    """The configuration file ``relative`` as committed at ``commit``, loaded by the one
    config loader (None when the file does not exist there)."""
    from ml_ci.config import load_config
    from ml_ci.errors import ConfigError

    blob = gitutil.show_file(root, commit, relative)
    if blob is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ml-ci-config-") as temp:
        path = Path(temp) / Path(relative).name
        path.write_bytes(blob)
        try:
            return load_config(path)
        except ConfigError as error:
            shown = str(error).replace(str(path), f"{commit[:12]}:{relative}")
            raise ConfigError(shown) from None


def bar(root: Path, commit: str, config_file: str) -> tuple[str | None, Config | None]:
    """(P, the configuration that applies to ``commit``): its first parent's; for a first
    version (no parent, or ml-ci not adopted at the parent) its own, with P None."""
    parent = first_parent(root, commit)
    if parent is not None:
        config = config_at(root, parent, config_file)
        if config is not None:
            return parent, config
    return None, config_at(root, commit, config_file)


def resolve(root: Path, ref: str, pin: Mapping[str, str]) -> str:
    """A ref as of the first parent: ``pin`` names what a branch meant before the merge."""
    resolver = getattr(gitutil, "resolve_ref", None)  # the one resolver, when available
    if resolver is not None:
        return str(resolver(root, ref, pin=dict(pin)))
    return gitutil.rev_parse(root, pin.get(ref, ref))


def pinned_spec(spec: str, root: Path, pin: Mapping[str, str]) -> str:
    """``path@ref`` with ``ref`` replaced by its SHA as of the first parent; a plain path
    (the working tree, i.e. the merged commit) unchanged."""
    from ml_ci.drift.sources import parse_spec

    parsed = parse_spec(spec, cwd=root)
    if parsed.ref is None:
        return spec
    return f"{parsed.path}@{resolve(root, parsed.ref, pin)}"


def recompute(
    root: Path,
    config_file: str,
    commit: str,
    *,
    head_sha: str | None,
    pull_request: int | None,
    repo: str | None,
    progress: Progress | None = None,
) -> Recomputed:
    """Recompute the record of ``commit`` (checked out in ``root``; see the module doc)."""
    say = progress or (lambda _message: None)
    if gitutil.head_sha(root) != commit:
        raise Unrecomputable(
            f"the working tree of {root} is not at {commit[:12]}; check out the merged commit "
            "to release it"
        )
    own = config_at(root, commit, config_file)
    parent, config = bar(root, commit, config_file)
    if config is None or own is None:
        raise Unrecomputable(f"{config_file} does not exist at {commit[:12]}")
    changed = own.model_dump(mode="json") != config.model_dump(mode="json")
    missing = [
        key
        for key, value in (
            ("model.path", config.model.path),
            ("predict.command", config.predict.command),
            ("predict.data", config.predict.data),
        )
        if not value
    ]
    if missing:
        raise Unrecomputable(
            f"{config_file}: {', '.join(missing)} not set at {(parent or commit)[:12]}; the "
            "release scores both models itself (set them, or release.trust_record: true)"
        )
    branch = config.baseline.default_branch
    pin = {branch: parent or commit, f"origin/{branch}": parent or commit}
    baseline = _baseline_commit(root, config, parent or commit, pin)
    say(f"recomputing {commit[:12]} with the configuration of {(parent or commit)[:12]}")
    try:
        _pull(root, config, say)
        compare = _compare(root, config, commit, baseline, say)
        drift = _drift(root, config, pin, say)
    except InputError as error:  # data, model or command unusable here: cannot recompute
        raise Unrecomputable(str(error)) from None
    record = _record(root, config, commit, parent, head_sha, pull_request, repo)
    record.compare = compare
    record.drift = drift
    return Recomputed(record, config, parent, baseline, changed)


def _baseline_commit(root: Path, config: Config, parent: str, pin: Mapping[str, str]) -> str:
    if config.baseline.stage is not None:
        from ml_ci.release.registry import version_at_stage

        return version_at_stage(root, config.model.name, config.baseline.stage)[1]
    if config.baseline.ref is not None:
        return resolve(root, config.baseline.ref, pin)
    return parent


def _pull(root: Path, config: Config, say: Progress) -> None:
    """Pull what the scoring and the drift check read from the merged tree."""
    from ml_ci.data import PullSettings, execute
    from ml_ci.drift.sources import parse_spec

    targets = [config.predict.data or ""]
    if config.drift.current and parse_spec(config.drift.current, cwd=root).ref is None:
        targets.append(config.drift.current)
    targets = [target for target in dict.fromkeys(targets) if target]
    execute(
        PullSettings(
            start=root, targets=targets, remote=config.data.remote, retries=config.data.retries
        ),
        progress=say,
    )


def _compare(
    root: Path, config: Config, commit: str, baseline: str, say: Progress
) -> CompareSection:
    from ml_ci.compare.baseline import produce_baseline
    from ml_ci.compare.engine import CompareSettings, execute

    with tempfile.TemporaryDirectory(prefix="ml-ci-release-") as temp:
        scored: dict[str, Path] = {}
        for name, rev in (("baseline", baseline), ("candidate", commit)):
            output = Path(temp) / f"{name}-predictions.csv"
            say(f"scoring the {name} model ({rev[:12]}) with predict.command")
            produce_baseline(root, config, rev, output, progress=say)
            scored[name] = output
        settings = CompareSettings(
            baseline=scored["baseline"], candidate=scored["candidate"], config=config
        )
        return execute(settings, progress=say)


def _drift(
    root: Path, config: Config, pin: Mapping[str, str], say: Progress
) -> DriftSection | None:
    from ml_ci.drift.engine import DriftSettings, execute

    if not (config.drift.reference and config.drift.current):
        return None
    settings = DriftSettings(
        reference=pinned_spec(config.drift.reference, root, pin),
        current=pinned_spec(config.drift.current, root, pin),
        config=config.drift,
        cwd=root,
        progress=say,
    )
    return execute(settings)


def _record(
    root: Path,
    config: Config,
    commit: str,
    parent: str | None,
    head_sha: str | None,
    pull_request: int | None,
    repo: str | None,
) -> EvaluationRecord:
    from ml_ci.dvcrepo import read_lock_at
    from ml_ci.lineage import BaseCommit, build_lineage, model_artifact
    from ml_ci.record import EvaluationRecord, RepoInfo

    lock = read_lock_at(root, commit)
    base = BaseCommit(parent, config.baseline.default_branch) if parent else None
    assert config.model.path is not None
    return EvaluationRecord(
        model=config.model.name,
        artifact=model_artifact(root, lock, commit, config.model.path),
        repo=RepoInfo(
            name=repo,
            head_sha=head_sha or commit,
            evaluated_sha=commit,
            base_sha=parent,
            base_ref=config.baseline.default_branch if parent else None,
            pull_request=pull_request,
        ),
        lineage=build_lineage(root, lock, commit, base) if lock else None,
    )
