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

A model's first version -- a commit without a parent, or whose parent has no ``ml-ci.yaml``
(the merge adopting ml-ci) -- has no earlier bar: its own configuration applies and it is
compared with itself. The scoring never sees the job's GitHub token.

Before scoring, the job's own environment is fingerprinted (:mod:`ml_ci.fingerprint`) and
checked against what ``M`` states on the keys the first parent's ``release.require_fingerprint``
lists (its lock file's pins, its ``.python-version``): a mismatch refuses the release (exit 1),
since the scores would come from software nobody reviewed. The recomputed record carries this
fingerprint, and the pull request's claimed one beside it, shown and never compared.
When any of this is impossible, :class:`Unrecomputable` says why in one line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ml_ci import gitutil
from ml_ci.config import load_config_at
from ml_ci.errors import GateFailed, InputError

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.record import EnvironmentSection, EvaluationRecord, Fingerprint
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


def bar(root: Path, commit: str, config_file: str) -> tuple[str | None, Config | None]:
    """(P, the configuration that applies to ``commit``): its first parent's; for a first
    version (no parent, or ml-ci not adopted at the parent) its own, with P None."""
    parent = first_parent(root, commit)
    if parent is not None:
        config = load_config_at(root, parent, config_file)
        if config is not None:
            return parent, config
    return None, load_config_at(root, commit, config_file)


def pinned_spec(spec: str, root: Path, pin: Mapping[str, str]) -> str:
    """``path@ref`` with ``ref`` replaced by its SHA as of the first parent; a plain path
    (the working tree, i.e. the merged commit) unchanged."""
    from ml_ci.drift.sources import parse_spec

    parsed = parse_spec(spec, cwd=root)
    if parsed.ref is None:
        return spec
    sha = gitutil.resolve_ref(root, parsed.ref, pin=pin, what=f"the reference of {spec}")
    return f"{parsed.path}@{sha}"


def recompute(
    root: Path,
    config_file: str,
    commit: str,
    *,
    head_sha: str | None,
    pull_request: int | None,
    repo: str | None,
    progress: Progress | None = None,
    claimed_environment: Fingerprint | None = None,
) -> Recomputed:
    """Recompute the record of ``commit`` (checked out in ``root``; see the module doc).
    ``claimed_environment``: the pull request's record's fingerprint, carried, not checked."""
    say = progress or (lambda _message: None)
    if gitutil.head_sha(root) != commit:
        raise Unrecomputable(
            f"the working tree of {root} is not at {commit[:12]}; check out the merged commit "
            "to release it"
        )
    own = load_config_at(root, commit, config_file)
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
    from ml_ci.compare.baseline import baseline_commit

    environment = scoring_environment(root, config, commit, claimed_environment)
    say(f"scoring environment matches {commit[:12]} on {', '.join(environment.required) or '-'}")
    described, baseline = baseline_commit(root, config, None, pin=pin)
    say(f"baseline: {described} ({baseline[:12]})")
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
    record.environment = environment
    return Recomputed(record, config, parent, baseline, changed)


def scoring_environment(
    root: Path, config: Config, commit: str, claimed: Fingerprint | None
) -> EnvironmentSection:
    """This job's fingerprint, refused (:class:`GateFailed`) when it differs from what
    ``commit`` states on ``config.release.require_fingerprint`` (``config``: the first
    parent's, so a pull request cannot drop a requirement for itself)."""
    from ml_ci import fingerprint as fp
    from ml_ci.record import EnvironmentSection, Fingerprint

    settings = config.release
    own = fp.fingerprint(root, image_env=settings.image_env, lockfile=settings.lockfile)
    required: list[str] = list(settings.require_fingerprint)
    if required:
        locks = fp.commit_locks(root, commit, settings.lockfile)
        lock = fp.choose_lockfile(locks, settings.lockfile)
        if settings.lockfile and lock is None:
            raise GateFailed(
                f"release refused: release.lockfile {settings.lockfile} does not exist at "
                f"{commit[:12]}; commit it or change release.lockfile"
            )
        python_version = gitutil.show_file(root, commit, ".python-version")
        try:
            problems = fp.environment_problems(
                required,
                lock,
                python_version,
                own,
                fp.installed_versions(),
                fp.commit_reader(root, commit),  # its -r/-c includes, at the same commit
            )
        except ValueError as error:  # the merged lock file is unreadable
            raise InputError(f"{commit[:12]}: {error}") from None
        if problems:
            raise GateFailed(
                f"release refused: the scoring environment does not match {commit[:12]} "
                f"(release.require_fingerprint): {'; '.join(problems)}; install the environment "
                "from the merged commit's lock file before ml-ci release"
            )
    shown = (
        Fingerprint.model_validate(claimed.model_dump(include=set(fp.KEYS))) if claimed else None
    )
    return EnvironmentSection(**own, role="release", claimed=shown, required=required)


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
    """Score both models with ``predict.command`` (the merged commit's code, in isolation) on
    the merged evaluation data, then compare them under ``config``'s gates."""
    from ml_ci.compare.baseline import score_model, wants_timing
    from ml_ci.compare.engine import CompareSettings, execute
    from ml_ci.compare.latency import Timing, timing_path, write_timing

    assert config.predict.data is not None
    data_file = root / config.predict.data
    repeats = config.latency.repeats if wants_timing(config) else 1
    with tempfile.TemporaryDirectory(prefix="ml-ci-release-") as temp, _without_tokens():
        scored: dict[str, Path] = {}
        times: dict[str, list[float]] = {}
        for name, rev in (("baseline", baseline), ("candidate", commit)):
            output = Path(temp) / f"{name}-predictions.csv"
            say(f"scoring the {name} model ({rev[:12]}) with predict.command")
            times[name] = score_model(
                root,
                config,
                model_rev=rev,
                data_file=data_file,
                output=output,
                code_rev=commit,
                progress=say,
                repeats=repeats,
            )
            scored[name] = output
        if wants_timing(config):
            write_timing(
                timing_path(scored["baseline"]), Timing(times["baseline"], times["candidate"], 0)
            )
        settings = CompareSettings(
            baseline=scored["baseline"], candidate=scored["candidate"], config=config
        )
        return execute(settings, progress=say)


#: Variables holding the job's GitHub credentials: the predict command never sees them.
TOKEN_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
)


@contextlib.contextmanager
def _without_tokens() -> Iterator[None]:
    """Hide the GitHub credentials from the scoring subprocesses (the release step holds a
    contents: write token; the predict command needs none)."""
    saved = {name: os.environ.pop(name) for name in TOKEN_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


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
