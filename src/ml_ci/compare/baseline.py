"""Score the baseline model on the candidate's evaluation rows (``ml-ci baseline``), in isolation.

:func:`score_model` is the one way ml-ci runs ``predict.command``:

* the model file is read from git + DVC at ``model_rev`` (``dvc.api`` through
  :func:`ml_ci.dvcrepo.read_tracked`: the local cache or the remote) into a temporary folder;
* the command runs in a temporary **git worktree detached at** ``code_rev`` (so the predict
  code is that commit's), with ``{model}`` = that file, ``{data}`` = a copy of the data in the
  temporary folder and ``{output}`` = a temporary path, in the pinned environment of
  ``ml-ci repro``; the table is moved to ``output`` afterwards;
* the workspace's DVC outputs that git does not hold at ``code_rev`` (an encoder, a vocabulary)
  are symlinked into the worktree so predict code can read them, except ``model.path``,
  ``predictions.path`` and the outputs of the stage that writes the predictions;
* nothing in the workspace may change: the workspace's DVC outputs, ``predictions.path`` and the
  files beside ``output`` are fingerprinted before and after (:func:`_file_state`) and any
  change is an error, as is a command that did not write ``{output}``.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ml_ci import gitutil
from ml_ci.compare.latency import Timing, timing_path, write_timing
from ml_ci.config import LATENCY_METRICS, Config
from ml_ci.dvcrepo import TrackedEntry
from ml_ci.errors import ConfigError, ExternalToolError, InputError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BaselineResult:
    ref: str  # what was asked for (a ref, a stage, or the merge-base)
    commit: str
    output: Path
    seconds: float
    timing: Timing | None

    def to_json(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "commit": self.commit,
            "output": str(self.output),
            "seconds": round(self.seconds, 3),
            "timing": None if self.timing is None else self.timing.to_json(),
        }


def baseline_commit(
    root: Path, config: Config, ref: str | None, *, pin: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(description, commit SHA) of the baseline: --ref, baseline.stage, baseline.ref, or the
    merge-base of HEAD with baseline.default_branch; every name goes through
    :func:`ml_ci.gitutil.resolve_ref` (local branch, remote-tracking branch, tag, SHA)."""
    if ref is not None:
        return ref, gitutil.resolve_ref(root, ref, pin=pin, what="--ref")
    if config.baseline.stage is not None:
        return _from_stage(root, config)
    if config.baseline.ref is not None:
        sha = gitutil.resolve_ref(root, config.baseline.ref, pin=pin, what="baseline.ref")
        return config.baseline.ref, sha
    branch = config.baseline.default_branch
    found = gitutil.lookup_ref(root, branch, pin=pin, what="baseline.default_branch")
    where = branch if found.found in ("pin", "commit") else found.found.removeprefix("refs/")
    where = where.removeprefix("heads/").removeprefix("remotes/")
    return f"merge-base of HEAD and {where}", gitutil.merge_base(root, "HEAD", found.sha)


def _from_stage(root: Path, config: Config) -> tuple[str, str]:
    stage = config.baseline.stage
    assert stage is not None
    try:
        from ml_ci.registry import version_at_stage
    except ImportError:
        raise ConfigError(
            f"baseline.stage {stage!r}: the model registry (ml_ci.registry) is not "
            "available in this ml-ci; remove baseline.stage or pass --ref"
        ) from None
    version, sha = version_at_stage(root, config.model.name, stage)
    return f"{config.model.name} {version} at stage {stage}", str(sha)


def _required(config: Config) -> tuple[str, str, str]:
    for key, value in (
        ("model.path", config.model.path),
        ("predict.command", config.predict.command),
        ("predict.data", config.predict.data),
    ):
        if not value:
            raise ConfigError(f"ml-ci.yaml: {key} is not set; ml-ci baseline needs it")
    assert config.model.path and config.predict.command and config.predict.data
    return config.model.path, config.predict.command, config.predict.data


PLACEHOLDERS = ("{model}", "{data}", "{output}")
#: Files up to this size are fingerprinted by content (md5); larger ones by size, mtime, inode.
HASH_LIMIT = 64 * 1024 * 1024


def render_command(template: str, model: Path, data: Path, output: Path) -> str:
    """The predict command with shell-quoted paths for {model}, {data} and {output}."""
    return (
        template.replace("{model}", shlex.quote(str(model)))
        .replace("{data}", shlex.quote(str(data)))
        .replace("{output}", shlex.quote(str(output)))
    )


def check_template(template: str) -> None:
    """``predict.command`` must use every placeholder: a fixed ``--output predictions.csv`` (as
    in many ``dvc.yaml`` files) would score into a fixed file instead of ml-ci's."""
    missing = [name for name in PLACEHOLDERS if name not in template]
    if missing:
        raise ConfigError(
            f"ml-ci.yaml: predict.command does not use {', '.join(missing)}; write the command "
            "with {model}, {data} and {output} (ml-ci fills in the model, a copy of the data "
            "and where to write the table), e.g. python src/predict.py --model {model} "
            "--data {data} --output {output}"
        )


def _run(command: str, cwd: Path, env: dict[str, str]) -> float:
    """Run the predict command in ``cwd``; its wall time in ms."""
    start = time.perf_counter()
    done = subprocess.run(
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        lines = [line for line in (done.stderr + "\n" + done.stdout).splitlines() if line.strip()]
        raise ExternalToolError(
            f"predict.command failed (exit {done.returncode}): "
            f"{lines[-1].strip() if lines else 'no output'}; command: {command}"
        )
    return elapsed


Fingerprint = tuple[object, ...]


def _file_state(path: Path) -> Fingerprint | None:
    """What identifies a file's or folder's content: md5 per file (size, mtime and inode for
    files over :data:`HASH_LIMIT`, so a large data set is not read twice); None if absent."""
    from ml_ci.dvcrepo import file_md5

    if path.is_symlink() and not path.exists():
        return ("dangling", str(path.readlink()))
    if path.is_file():
        stat = path.stat()
        if stat.st_size > HASH_LIMIT:
            return ("stat", stat.st_size, stat.st_mtime_ns, stat.st_ino)
        return ("md5", file_md5(path))
    if path.is_dir():
        return tuple(
            (item.relative_to(path).as_posix(), _file_state(item))
            for item in sorted(path.rglob("*"))
            if not item.is_dir()
        )
    return None


def _guarded(root: Path, config: Config, output: Path) -> list[Path]:
    """What must not change: the workspace's DVC outputs, predictions.path, and the files
    beside ``output`` (the place a hard-coded output path would write to)."""
    paths = [root / entry.path for entry in _workspace_outputs(root)]
    paths.append(root / config.predictions.path)
    if output.parent.is_dir():
        paths += [item for item in output.parent.iterdir() if item.is_file()]
    skip = {output, timing_path(output)}
    return [path for path in dict.fromkeys(paths) if path not in skip]


def _workspace_outputs(root: Path) -> list[TrackedEntry]:
    """DVC outputs of the workspace: dvc.lock outs and ``dvc add``-ed data at HEAD."""
    from ml_ci.dvcrepo import dvc_files_at, read_lock

    lock = read_lock(root)
    entries = list(lock.outs()) if lock else []
    if gitutil.head_sha(root) is not None:
        entries += dvc_files_at(root, "HEAD")
    return entries


def _changes(before: dict[Path, Fingerprint | None], root: Path) -> list[str]:
    changed = [path for path, seen in before.items() if _file_state(path) != seen]
    return [_shown(path, root) for path in changed]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class _Sandbox:
    """A temporary folder holding a git worktree detached at ``code_sha`` (with the
    workspace's DVC outputs linked in) and the model, data and output files of each run."""

    def __init__(self, root: Path, config: Config, code_sha: str, temp: Path) -> None:
        self.root, self.config, self.temp = root, config, temp
        self.code = temp / "code"
        # no hooks: `dvc install` puts a post-checkout hook there that would run dvc checkout
        gitutil.git(
            ["-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "-q",
             str(self.code), code_sha],
            root,
        )  # fmt: skip

    def link_outputs(self) -> None:
        """Symlink the workspace's DVC outputs that the worktree lacks (predict code may read
        an encoder), never the model, the predictions or the predicting stage's outputs."""
        config = self.config
        entries = _workspace_outputs(self.root)
        writers = {e.stage for e in entries if e.path == config.predictions.path and e.stage}
        skip = {config.model.path, config.predictions.path}
        for entry in entries:
            if entry.path in skip or entry.stage in writers:
                continue
            source, target = self.root / entry.path, self.code / entry.path
            if source.exists() and not target.exists() and not target.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(source, target_is_directory=source.is_dir())

    def close(self) -> None:
        gitutil.git(["worktree", "remove", "--force", str(self.code)], self.root, check=False)
        gitutil.git(["worktree", "prune"], self.root, check=False)

    def score(
        self, model: bytes | Path, data_file: Path, output: Path, env: dict[str, str], repeats: int
    ) -> list[float]:
        """Run the command ``repeats`` times; move the table to ``output``; wall ms per run."""
        assert self.config.model.path and self.config.predict.command
        run = Path(tempfile.mkdtemp(prefix="run-", dir=self.temp))
        model_file = run / Path(self.config.model.path).name
        if isinstance(model, Path):
            shutil.copy2(model, model_file)
        else:
            model_file.write_bytes(model)
        data_copy = run / "data" / data_file.name
        data_copy.parent.mkdir()
        if data_file.is_dir():
            shutil.copytree(data_file, data_copy)
        else:
            shutil.copy2(data_file, data_copy)
        scratch = run / "output" / ("predictions" + output.suffix)
        scratch.parent.mkdir()
        command = render_command(self.config.predict.command, model_file, data_copy, scratch)
        guarded = _guarded(self.root, self.config, output)
        before = {path: _file_state(path) for path in guarded}
        elapsed = []
        for _ in range(repeats):
            scratch.unlink(missing_ok=True)
            elapsed.append(_run(command, self.code, env))
        changed = _changes(before, self.root)
        if changed:
            raise ExternalToolError(
                f"predict.command changed {', '.join(changed[:3])}"
                f"{' ...' if len(changed) > 3 else ''} in the workspace; it must write only to "
                "{output} (restore the files with git checkout / dvc checkout)"
            )
        if not scratch.is_file():
            raise ExternalToolError(
                "predict.command finished but did not write the {output} path; it must write "
                f"the predictions table there, not to a fixed file (command: {command})"
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(scratch, output)
        return elapsed


@contextmanager
def sandbox(root: Path, config: Config, code_rev: str = "HEAD") -> Iterator[_Sandbox]:
    """A :class:`_Sandbox` at ``code_rev``, removed (worktree and files) on exit."""
    _required(config)
    assert config.predict.command
    check_template(config.predict.command)
    code_sha = gitutil.resolve_ref(root, code_rev)
    with tempfile.TemporaryDirectory(prefix="ml-ci-score-") as temp:
        box = _Sandbox(root, config, code_sha, Path(temp))
        try:
            box.link_outputs()
            yield box
        finally:
            box.close()


def score_model(
    root: Path,
    config: Config,
    *,
    model_rev: str,
    data_file: Path,
    output: Path,
    code_rev: str = "HEAD",
    progress: Progress | None = None,
    repeats: int = 1,
) -> list[float]:
    """Score ``model.path`` as committed at ``model_rev`` on ``data_file`` with
    ``predict.command`` as committed at ``code_rev``, in isolation (see the module doc);
    write the table to ``output`` and return the wall time of each of ``repeats`` runs in ms.
    Nothing in the workspace changes (an :class:`ExternalToolError` if the command tried)."""
    from ml_ci.dvcrepo import dvc_env, read_tracked
    from ml_ci.repro import pinned_env

    say = progress or (lambda _m: None)
    model_path, _, _ = _required(config)
    if not data_file.exists():
        raise InputError(f"{data_file}: no such file; the data to score must exist")
    with sandbox(root, config, code_rev) as box:
        sha = gitutil.resolve_ref(root, model_rev)
        say(f"reading {model_path} at {sha[:12]}")
        blob = read_tracked(root, model_path, rev=sha, key="model.path")
        env = dvc_env(pinned_env(root, dict(config.repro.env)))
        say(f"scoring {model_path}@{sha[:12]} on {data_file.name} ({repeats} run(s))")
        return box.score(blob, data_file.resolve(), output.resolve(), env, repeats)


def wants_timing(config: Config) -> bool:
    """Time the predict runs when a latency gate exists and no per-row latency column does."""
    gated = any(g.metric in LATENCY_METRICS for g in config.gates)
    return gated and not (config.predictions.latency or config.latency.column)


def produce_baseline(
    root: Path,
    config: Config,
    ref: str | None,
    output: Path,
    progress: Progress | None = None,
    *,
    pin: Mapping[str, str] | None = None,
) -> BaselineResult:
    """Write the baseline's predictions on ``predict.data`` to ``output``: the baseline
    model, the candidate's code (HEAD) and data, through :func:`score_model`'s sandbox."""
    from ml_ci.dvcrepo import dvc_env, read_tracked
    from ml_ci.repro import pinned_env

    say = progress or (lambda _m: None)
    model_path, _, data = _required(config)
    described, sha = baseline_commit(root, config, ref, pin=pin)
    data_file = root / data
    if not data_file.exists():
        raise InputError(
            f"{data_file}: predict.data does not exist; run `ml-ci pull` or `dvc repro` first"
        )
    output = output.resolve()
    timed = wants_timing(config)
    repeats = config.latency.repeats if timed else 1
    candidate_model = root / model_path
    if timed and not candidate_model.is_file():
        raise InputError(
            f"{candidate_model}: the candidate model is missing; run `dvc repro` or "
            "`ml-ci pull` (needed to time it for the latency gates)"
        )
    started = time.perf_counter()
    with sandbox(root, config, "HEAD") as box:
        env = dvc_env(pinned_env(root, dict(config.repro.env)))
        say(f"baseline: {model_path} at {sha[:12]} ({described})")
        blob = read_tracked(root, model_path, rev=sha, key="model.path")
        say(f"scoring the baseline on {data} in a worktree at HEAD ({repeats} run(s))")
        baseline_ms = box.score(blob, data_file, output, env, repeats)
        candidate_ms: list[float] = []
        if timed:
            say(f"timing the candidate model: {repeats} run(s)")
            scratch = box.temp / ("candidate" + output.suffix)
            candidate_ms = box.score(candidate_model, data_file, scratch, env, repeats)
    seconds = time.perf_counter() - started
    timing = None
    sidecar = timing_path(output)
    if timed:
        timing = Timing(baseline_ms, candidate_ms, 0)
        write_timing(sidecar, timing)
    else:
        sidecar.unlink(missing_ok=True)  # a stale file would feed old timings to compare
    return BaselineResult(described, sha, output, seconds, timing)
