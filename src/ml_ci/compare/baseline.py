"""Score the baseline model on the candidate's evaluation rows (``ml-ci baseline``).

The baseline model file is read from git + DVC at the baseline commit (``dvc.api`` through
:func:`ml_ci.dvcrepo.read_tracked`: the local cache or the remote; the working tree is never
checked out) into a temporary folder, and ``predict.command`` scores it on ``predict.data``
from the working tree -- the candidate's data -- so both sides are scored on the same rows.
The command runs in the pinned environment of ``ml-ci repro`` and is timed for latency gates.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ml_ci import gitutil
from ml_ci.compare.latency import Timing, timing_path, write_timing
from ml_ci.config import LATENCY_METRICS, Config
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
        from ml_ci.release.registry import version_at_stage
    except ImportError:
        raise ConfigError(
            f"baseline.stage {stage!r}: the model registry (ml_ci.release.registry) is not "
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


def render_command(template: str, model: Path, data: Path, output: Path) -> str:
    """The predict command with shell-quoted paths for {model}, {data} and {output}."""
    return (
        template.replace("{model}", shlex.quote(str(model)))
        .replace("{data}", shlex.quote(str(data)))
        .replace("{output}", shlex.quote(str(output)))
    )


def _run(command: str, root: Path, env: dict[str, str]) -> float:
    """Run the predict command in ``root``; its wall time in ms."""
    start = time.perf_counter()
    done = subprocess.run(
        command, shell=True, cwd=root, env=env, capture_output=True, text=True, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        lines = [line for line in (done.stderr + "\n" + done.stdout).splitlines() if line.strip()]
        raise ExternalToolError(
            f"predict.command failed (exit {done.returncode}) in {root}: "
            f"{lines[-1].strip() if lines else 'no output'}; command: {command}"
        )
    return elapsed


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
    """Write the baseline's predictions on ``predict.data`` to ``output``."""
    from ml_ci.dvcrepo import dvc_env, read_tracked
    from ml_ci.repro import pinned_env

    say = progress or (lambda _m: None)
    model_path, template, data = _required(config)
    described, sha = baseline_commit(root, config, ref, pin=pin)
    data_file = root / data
    if not data_file.is_file():
        raise InputError(
            f"{data_file}: predict.data does not exist; run `ml-ci pull` or `dvc repro` first"
        )
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    env = dvc_env(pinned_env(root, dict(config.repro.env)))
    say(f"baseline: {model_path} at {sha[:12]} ({described})")
    blob = read_tracked(root, model_path, rev=sha)
    timed = wants_timing(config)
    repeats = config.latency.repeats if timed else 1
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ml-ci-baseline-") as temp:
        model_file = Path(temp) / Path(model_path).name
        model_file.write_bytes(blob)
        command = render_command(template, model_file, data_file, output)
        say(f"scoring the baseline on {data}: {command}")
        baseline_ms = [_run(command, root, env) for _ in range(repeats)]
        candidate_ms: list[float] = []
        if timed:
            candidate_model = root / model_path
            if not candidate_model.is_file():
                raise InputError(
                    f"{candidate_model}: the candidate model is missing; run `dvc repro` or "
                    "`ml-ci pull` (needed to time it for the latency gates)"
                )
            scratch = Path(temp) / ("candidate" + output.suffix)
            say(f"timing the candidate model: {repeats} run(s)")
            command = render_command(template, candidate_model, data_file, scratch)
            candidate_ms = [_run(command, root, env) for _ in range(repeats)]
    seconds = time.perf_counter() - started
    if not output.is_file():
        raise ExternalToolError(
            f"predict.command finished but did not write {output}; it must write the "
            "predictions table to the {output} path"
        )
    timing = None
    sidecar = timing_path(output)
    if timed:
        timing = Timing(baseline_ms, candidate_ms, 0)
        write_timing(sidecar, timing)
    else:
        sidecar.unlink(missing_ok=True)  # a stale file would feed old timings to compare
    return BaselineResult(described, sha, output, seconds, timing)
