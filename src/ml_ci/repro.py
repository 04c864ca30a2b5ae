"""``ml-ci repro``: rerun the DVC pipeline in a pinned environment and verify the result.

Verification is against the COMMITTED ``dvc.lock`` (read from git HEAD, not the working
copy that ``dvc repro`` rewrites):

1. before the run, every output already in the workspace must hash to what the committed
   lock says (this catches a tampered or uncommitted model file; such a file is copied to
   ``.dvc/tmp/ml-ci-backup/`` before the run overwrites it);
2. ``dvc repro --force`` recomputes every stage (of the targets and their upstream);
3. after the run, every output must hash to the committed lock's value ("bytes" mode), or,
   with ``repro.tolerance``, every number in the declared metrics files must be within
   ``abs + rel * |committed|`` of the committed value ("tolerance" mode);
4. with ``--runs N`` (N >= 2) the pipeline runs again and each run is compared with the
   first: a difference means the pipeline is not deterministic.

Verdicts: ``verified``, ``within_tolerance``, ``mismatch``, ``nondeterministic``. On a
failure the reproduced files stay in the workspace for inspection; the committed ones
come back with ``git checkout HEAD -- dvc.lock <git-tracked outputs> && dvc checkout``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci import gitutil
from ml_ci.config import Config, find_config, load_config
from ml_ci.config.pipeline import ToleranceConfig
from ml_ci.dvcrepo import (
    DvcLock,
    TrackedEntry,
    check_targets,
    dvc_env,
    dvc_files_at,
    hash_path,
    read_lock_at,
    read_tracked,
    require_dvc_repo,
    run_dvc,
    with_progress,
)
from ml_ci.errors import ConfigError, InputError
from ml_ci.fingerprint import check_settings, record_environment
from ml_ci.lineage import BaseCommit, build_lineage, find_base, model_artifact
from ml_ci.record import OutputCheck, RepoInfo, ReproSection, load_record, save_record

#: The pinned environment of a reproduction run (``repro.env`` adds to / overrides it).
#: One thread everywhere (BLAS/OpenMP reductions in a different order change the last bits),
#: fixed hash seed, UTC, C locale, cuBLAS deterministic workspace; SOURCE_DATE_EPOCH (the
#: HEAD commit's time) is added by :func:`pinned_env`.
PINNED_ENV: dict[str, str] = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    "TZ": "UTC",
    "LC_ALL": "C.UTF-8",
}
BACKUP_DIR = Path(".dvc") / "tmp" / "ml-ci-backup"


@dataclass(frozen=True)
class ReproSettings:
    root: Path
    config: Config
    targets: list[str] = field(default_factory=list)
    runs: int = 1


@dataclass(frozen=True)
class ReproResult:
    root: Path
    section: ReproSection
    lock: DvcLock  # the committed one (HEAD)
    head: str

    @property
    def ok(self) -> bool:
        return self.section.verdict in ("verified", "within_tolerance")

    @property
    def failures(self) -> list[OutputCheck]:
        return [check for check in self.section.outputs if not check.match]


def pinned_env(root: Path, extra: dict[str, str]) -> dict[str, str]:
    """The pinned variables plus SOURCE_DATE_EPOCH and ``extra`` (the config's repro.env)."""
    env = dict(PINNED_ENV)
    epoch = gitutil.git(["log", "-1", "--format=%ct", "HEAD"], root, check=False)
    if epoch.isdigit():
        env["SOURCE_DATE_EPOCH"] = epoch
    env.update(extra)
    return env


def restore_hint(lock: DvcLock, root: Path) -> str:
    """The command that brings the committed outputs back after a failed verification."""
    in_git = set(gitutil.git(["ls-files"], root).splitlines())
    tracked = sorted({out.path for out in lock.outs() if out.path in in_git})
    return "git checkout HEAD -- " + " ".join(["dvc.lock", *tracked]) + " && dvc checkout"


def execute(settings: ReproSettings, progress: Callable[[str], None] | None = None) -> ReproResult:
    """Reproduce, verify, and return the ``repro`` record section (the caller saves it)."""
    say = with_progress(progress)
    root = settings.root
    check_settings(settings.config)  # write_record's check, before a long reproduction
    require_dvc_repo(root)
    head = gitutil.head_sha(root)
    if head is None:
        raise InputError(f"{root}: the repository has no commits; commit dvc.yaml and dvc.lock")
    committed = read_lock_at(root, "HEAD")
    if committed is None or not committed.stages:
        raise InputError(
            f"{root}: dvc.lock is not committed at HEAD; run `dvc repro` and commit dvc.lock"
        )
    targets = settings.targets or list(settings.config.repro.targets)
    check_targets(root, targets)
    for target in targets:
        if target.split(":", 1)[-1] not in committed.stages:
            raise InputError(
                f"stage {target!r} is not in the committed dvc.lock; "
                "run `dvc repro` and commit dvc.lock first"
            )
    _require_data(root, head)
    stages = upstream_stages(committed, targets)
    outs = committed.outs(stages)
    tolerance = settings.config.repro.tolerance
    env = pinned_env(root, dict(settings.config.repro.env))

    started = time.monotonic()
    before = _check_workspace(root, outs)
    say(f"reproducing {', '.join(stages)} (dvc repro --force)")
    _run(root, targets, env)
    first = _observe(root, outs, tolerance)
    checks = _against_lock(root, outs, before, first, tolerance)

    differing: list[OutputCheck] = []
    for run in range(2, settings.runs + 1):
        say(f"run {run} of {settings.runs}: reproducing again to check determinism")
        _run(root, targets, env)
        differing += _between_runs(first, _observe(root, outs, tolerance), tolerance, run)

    if differing:
        verdict = "nondeterministic"
        checks = differing + [check for check in checks if not check.match]
    elif any(not check.match for check in checks):
        verdict = "mismatch"
    else:
        verdict = "within_tolerance" if tolerance else "verified"
    section = ReproSection(
        verdict=verdict,
        runs=settings.runs,
        mode="tolerance" if tolerance else "bytes",
        stages=stages,
        outputs=checks,
        env=redact(env),
        duration_s=round(time.monotonic() - started, 3),
        restore=None
        if verdict in ("verified", "within_tolerance")
        else restore_hint(committed, root),
    )
    return ReproResult(root=root, section=section, lock=committed, head=head)


def load_optional_config(path: Path | None, root: Path) -> Config:
    """``path`` if given, else ml-ci.yaml found from the current folder upwards (or in
    ``root``), else the defaults: reproduction needs no configuration."""
    if path is not None:
        return load_config(path)
    try:
        return load_config(find_config(Path.cwd()))
    except ConfigError:
        if (root / "ml-ci.yaml").is_file():
            return load_config(root / "ml-ci.yaml")
        return Config()


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


def write_record(result: ReproResult, config: Config, path: Path) -> Path:
    """Set repo, lineage, model, artifact, repro and environment in the record at ``path``.

    Other stages' sections are left as they are.
    """
    root = result.root
    base = find_base(root, ref=config.baseline.ref, default_branch=config.baseline.default_branch)
    record = load_record(path, missing_ok=True)
    record.repo = repo_info(root, base)
    record.lineage = build_lineage(root, result.lock, result.head, base)
    record.model = config.model.name
    if config.model.path:
        record.artifact = model_artifact(root, result.lock, result.head, config.model.path)
    record.repro = result.section
    record.environment = record_environment(root, config, base.sha if base else None)
    save_record(path, record)
    return path


def redact(env: dict[str, str]) -> dict[str, str]:
    """The environment as recorded: values of secret-looking names are hidden."""
    secret = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL")
    return {
        name: "***" if any(word in name.upper() for word in secret) else value
        for name, value in env.items()
    }


def _require_data(root: Path, head: str) -> None:
    """``dvc add``-ed inputs must be in the workspace: reproduction starts from them."""
    missing = [e.path for e in dvc_files_at(root, head) if not (root / e.path).exists()]
    if missing:
        raise InputError(
            f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}: DVC-tracked input "
            "data is not in the workspace; run `ml-ci pull` first"
        )


def upstream_stages(lock: DvcLock, targets: list[str]) -> list[str]:
    """The target stages and every stage they depend on (all stages when no target), in
    ``dvc.lock`` order. Stage A depends on B when a dep of A is an out of B (or inside it)."""
    if not targets:
        return list(lock.stages)
    producers = {out.path: out.stage for out in lock.outs()}
    wanted: set[str] = set()
    todo = [target.split(":", 1)[-1] for target in targets]
    while todo:
        name = todo.pop()
        if name in wanted or name not in lock.stages:
            continue
        wanted.add(name)
        for dep in lock.stages[name].deps:
            for out_path, stage in producers.items():
                if stage and (dep.path == out_path or dep.path.startswith(out_path + "/")):
                    todo.append(stage)
    return [name for name in lock.stages if name in wanted]


def _run(root: Path, targets: list[str], env: dict[str, str]) -> None:
    run_dvc(["repro", "--force", "-q", *targets], root, env=dvc_env(env))


def _check_workspace(root: Path, outs: list[TrackedEntry]) -> dict[str, str | None]:
    """Hash of each output before the run; mismatching files are backed up first."""
    seen: dict[str, str | None] = {}
    for out in outs:
        actual = hash_path(root / out.path)
        seen[out.path] = actual
        if actual is not None and actual != out.hash:
            target = root / BACKUP_DIR / out.path
            target.parent.mkdir(parents=True, exist_ok=True)
            source = root / out.path
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)
    return seen


def _observe(
    root: Path, outs: list[TrackedEntry], tolerance: ToleranceConfig | None
) -> dict[str, Any]:
    """What a run produced: each output's hash, and (tolerance mode) each metric's value."""
    observed: dict[str, Any] = {out.path: hash_path(root / out.path) for out in outs}
    if tolerance:
        for name in tolerance.metrics:
            path = root / name
            if not path.is_file():
                raise InputError(f"repro.tolerance.metrics: {name} was not produced by the run")
            for key, value in flatten_metrics(path.read_bytes(), name).items():
                observed[f"{name}:{key}"] = value
    return observed


def _against_lock(
    root: Path,
    outs: list[TrackedEntry],
    before: dict[str, str | None],
    after: dict[str, Any],
    tolerance: ToleranceConfig | None,
) -> list[OutputCheck]:
    """One check per output of the committed lock (pre-run and post-run hashes), plus one
    per metric in tolerance mode."""
    checks: list[OutputCheck] = []
    for out in outs:
        pre = before.get(out.path)
        tampered = pre is not None and pre != out.hash
        post = after.get(out.path)
        reproduced_ok = post == out.hash or tolerance is not None
        problems = []
        if tampered:
            problems.append(
                f"the workspace file before the run has md5 {pre}, dvc.lock says {out.hash}; "
                f"kept in {BACKUP_DIR / out.path}"
            )
        if post != out.hash and tolerance is None:
            problems.append(f"reproduced md5 {post}, the committed dvc.lock says {out.hash}")
        checks.append(
            OutputCheck(
                path=out.path,
                stage=out.stage,
                expected=out.hash,
                actual=pre if tampered else post,
                match=not tampered and reproduced_ok,
                detail="; ".join(problems) or None,
            )
        )
    if tolerance:
        checks += _metrics_against_head(root, tolerance, after)
    return checks


def _metrics_against_head(
    root: Path, tolerance: ToleranceConfig, after: dict[str, Any]
) -> list[OutputCheck]:
    checks: list[OutputCheck] = []
    for name in tolerance.metrics:
        data = gitutil.show_file(root, "HEAD", name)
        if data is None:  # a DVC-cached metrics file
            data = read_tracked(root, name, "HEAD")
        for key, expected in flatten_metrics(data, f"{name}@HEAD").items():
            label = f"{name}:{key}"
            actual = after.get(label)
            ok = actual is not None and within(expected, actual, tolerance.abs, tolerance.rel)
            checks.append(
                OutputCheck(
                    path=label,
                    expected=repr(expected),
                    actual=repr(actual),
                    match=ok,
                    detail=None if ok else f"outside abs {tolerance.abs} / rel {tolerance.rel}",
                )
            )
    return checks


def _between_runs(
    first: dict[str, Any], later: dict[str, Any], tolerance: ToleranceConfig | None, run: int
) -> list[OutputCheck]:
    differing: list[OutputCheck] = []
    for path, value in first.items():
        other = later.get(path)
        if tolerance is not None:
            is_metric = ":" in path
            same = (not is_metric) or (
                other is not None and within(value, other, tolerance.abs, tolerance.rel)
            )
        else:
            same = other == value
        if not same:
            differing.append(
                OutputCheck(
                    path=path,
                    expected=str(value),
                    actual=str(other),
                    match=False,
                    detail=f"run {run} differs from run 1: the pipeline is not deterministic",
                )
            )
    return differing


def within(expected: float, actual: float, abs_tol: float, rel_tol: float) -> bool:
    """``|actual - expected| <= abs_tol + rel_tol * |expected|`` (numpy.isclose's rule)."""
    return abs(actual - expected) <= abs_tol + rel_tol * abs(expected)


def flatten_metrics(data: bytes, source: str) -> dict[str, float]:
    """Numbers in a JSON/YAML metrics file, keyed by dotted path (``test.roc_auc``)."""
    import yaml

    try:
        parsed = yaml.safe_load(data.decode("utf-8"))  # JSON is YAML
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{source}: not a JSON/YAML metrics file: {error}") from None
    flat: dict[str, float] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(value, bool):
            return
        elif isinstance(value, int | float):
            flat[prefix] = float(value)

    walk(parsed, "")
    if not flat:
        raise InputError(f"{source}: no numeric metrics found")
    return flat


#: The GateFailed line stays short; the details are in the text output and the record.
SUMMARY_LIMIT = 299


def summary_line(result: ReproResult) -> str:
    """One line (at most :data:`SUMMARY_LIMIT` characters) naming what failed: how many
    outputs, the first with its two hashes (8 characters each, once), more names while they
    fit, and the restore command (or where to find it)."""
    section = result.section
    failed = result.failures
    if not failed:
        return f"reproduction: {section.verdict}"
    first = failed[0]
    count = f"{len(failed)} output{'s' if len(failed) != 1 else ''}"
    if section.verdict == "nondeterministic":
        head = f"reproduction is not deterministic: {count} differ between runs: "
        tail = "; see the runs in the record (repro.outputs)"
        detail = f"{first.path} ({_short(first.expected)} vs {_short(first.actual)})"
    else:
        head = f"reproduction does not match the committed dvc.lock in {count}: "
        tail = f"; restore: {section.restore}" if section.restore else ""
        detail = f"{first.path} (got {_short(first.actual)}, dvc.lock {_short(first.expected)})"
        if first.detail and "before the run" in first.detail:
            detail = detail[:-1] + ", changed before the run: backed up)"
    names = [detail]
    for check in failed[1:]:
        names.append(check.path)
        if len(head + ", ".join(names) + " and 99 more" + tail) > SUMMARY_LIMIT:
            names.pop()
            break
    rest = len(failed) - len(names)
    line = head + ", ".join(names) + (f" and {rest} more" if rest else "") + tail
    if len(line) > SUMMARY_LIMIT:  # a long restore command: it is in the record
        line = line[: len(line) - len(tail)] + "; restore: see repro.restore in the record"
    return line[:SUMMARY_LIMIT]


def _short(value: str | None) -> str:
    """A hash as its first 8 characters; other values (metrics) as they are."""
    if value is None:
        return "nothing"
    text = value.removesuffix(".dir")
    if len(text) >= 32 and all(c in "0123456789abcdef" for c in text):
        return value[:8]
    return value[:24]


def describe(section: ReproSection) -> str:
    """Human text of the section (one line per output)."""
    lines = [
        f"reproduction: {section.verdict} ({section.mode}, {section.runs} run(s), "
        f"stages: {', '.join(section.stages)})"
    ]
    for check in section.outputs:
        mark = "ok  " if check.match else "FAIL"
        lines.append(f"  {mark} {check.path}" + (f": {check.detail}" if check.detail else ""))
    return "\n".join(lines)
