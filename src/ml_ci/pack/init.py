"""``ml-ci init``: add ml-ci to an existing git + DVC repository.

Writes ``ml-ci.yaml`` (inferred from ``dvc.yaml`` and the predictions table), the workflow
templates into ``.github/workflows/``, an ml-ci entry (``repo: local`` hooks) in
``.pre-commit-config.yaml`` and ml-ci's outputs into ``.gitignore``. Never overwrites an
existing file unless ``force`` (``.gitignore`` only gets lines added); returns what it wrote and
what the user must do next. The release branch is the remote's default branch.

Inference (pure functions, tested on their own):

* model artifact: the first stage output under ``models/`` or ending in .pkl/.joblib/.onnx/.pt;
* predictions table: the first output named ``predictions*.csv`` / ``predictions*.parquet``;
* predict command: the command of the stage writing the predictions, with the model, data and
  predictions paths replaced by ``{model}``, ``{data}``, ``{output}`` (only when all three
  appear in it);
* task: from the predictions table (score columns and labels, see
  :mod:`ml_ci.pack.predictions`) in the workspace, else its DVC output in the cache (the md5
  in ``dvc.lock``), else binary with a note to check it; the gates written
  are the task's (:data:`~ml_ci.pack.predictions.TASK_GATES`).
"""

from __future__ import annotations

import configparser
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci.errors import InputError
from ml_ci.pack.predictions import TASK_GATES, TaskGuess

MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".onnx", ".pt", ".pth")
TABLE_SUFFIXES = (".csv", ".parquet")
WORKFLOWS = (
    "ml-ci-pr.yml",
    "ml-ci-comment.yml",
    "ml-ci-approvals.yml",
    "ml-ci-release.yml",
    "ml-ci-promote.yml",
)
DRIFT_WORKFLOW = "drift-watch.yml"
#: the production loop: they read the serving logs (logs: in ml-ci.yaml), so only with --live
LIVE_WORKFLOWS = ("ml-ci-canary.yml", "ml-ci-monitor.yml")
RUNBOOKS = "docs/runbooks"
DEFAULT_ACTION = "ml-ci/ml-ci@v1"
REQUIRED_CHECKS = ("ml-ci/gates", "ml-ci/governance")
#: DVC remote URL scheme -> the secrets its credentials usually come from.
REMOTE_SECRETS = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gs": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
    "ssh": ("DVC_SSH_KEY",),
    "http": ("DVC_HTTP_USER", "DVC_HTTP_PASSWORD"),
    "https": ("DVC_HTTP_USER", "DVC_HTTP_PASSWORD"),
}


@dataclass(frozen=True)
class InitSettings:
    root: Path
    force: bool = False
    action: str = DEFAULT_ACTION
    drift: bool = False
    live: bool = False


@dataclass
class InitResult:
    """What ``init`` did and what the user has to do next."""

    root: str
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    required_checks: list[str] = field(default_factory=lambda: list(REQUIRED_CHECKS))
    next_steps: list[str] = field(default_factory=list)
    task: str = "binary"
    task_reason: str = ""
    #: e.g. an evaluation set too small for a gate's margin (the minimum detectable effect)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- inference (pure)


def stage_outputs(stage: Mapping[str, Any]) -> list[str]:
    """Paths a dvc.yaml stage writes (outs, metrics, plots; str or {path: options})."""
    paths: list[str] = []
    for key in ("outs", "metrics", "plots"):
        for entry in stage.get(key) or []:
            names = (
                [entry]
                if isinstance(entry, str)
                else list(entry)
                if isinstance(entry, dict)
                else []
            )
            paths.extend(posixpath.normpath(str(name)) for name in names)
    return paths


def stage_deps(stage: Mapping[str, Any]) -> list[str]:
    return [posixpath.normpath(str(dep)) for dep in stage.get("deps") or [] if isinstance(dep, str)]


def find_model(stages: Mapping[str, Any]) -> str | None:
    """The model artifact: an output under models/ or with a model file extension."""
    for stage in stages.values():
        for path in stage_outputs(stage):
            if path.startswith("models/") or path.lower().endswith(MODEL_SUFFIXES):
                return path
    return None


def find_predictions(stages: Mapping[str, Any]) -> tuple[str, str] | None:
    """(stage name, path) of the predictions table: an output named predictions*.csv/parquet."""
    for name, stage in stages.items():
        for path in stage_outputs(stage):
            base = posixpath.basename(path).lower()
            if base.startswith("predictions") and base.endswith(TABLE_SUFFIXES):
                return str(name), path
    return None


def guess_predict_command(
    stage: Mapping[str, Any], model: str, predictions: str
) -> tuple[str, str] | None:
    """(command template, evaluation data) from the predictions stage, or None.

    The data is the stage's table dependency that appears in its command; each of the three
    paths is replaced as a whole word so ``data/test.csv`` never matches inside a longer path.
    """
    cmd = stage.get("cmd")
    if not isinstance(cmd, str):
        return None
    data = next(
        (dep for dep in stage_deps(stage) if dep.endswith(TABLE_SUFFIXES) and _mentions(cmd, dep)),
        None,
    )
    if data is None or not _mentions(cmd, model) or not _mentions(cmd, predictions):
        return None
    for path, placeholder in ((model, "{model}"), (data, "{data}"), (predictions, "{output}")):
        cmd = _word(path).sub(placeholder, cmd)
    return cmd, data


def _word(path: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w./-]){re.escape(path)}(?![\w./-])")


def _mentions(cmd: str, path: str) -> bool:
    return _word(path).search(cmd) is not None


def model_name(root: Path) -> str:
    """A release-tag-safe name from the folder name: lowercase, digits and dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", root.name.lower()).strip("-")
    return name or "model"


def infer_config(
    root: Path, dvc_yaml: Mapping[str, Any], task_guess: TaskGuess | None = None
) -> dict[str, Any]:
    """The ml-ci.yaml mapping for a repository whose pipeline is ``dvc_yaml`` and whose
    predictions table holds ``task_guess``'s task (binary when there is no table to look at)."""
    stages = {k: v for k, v in (dvc_yaml.get("stages") or {}).items() if isinstance(v, dict)}
    task = task_guess.task if task_guess else "binary"
    config: dict[str, Any] = {"version": 1, "task": task, "model": {"name": model_name(root)}}
    model = find_model(stages)
    if model:
        config["model"]["path"] = model
    found = find_predictions(stages)
    if found:
        stage_name, predictions = found
        config["predictions"] = {"path": predictions}
        guess = guess_predict_command(stages[stage_name], model, predictions) if model else None
        if guess:
            config["predict"] = {"command": guess[0], "data": guess[1]}
    config["gates"] = [dict(gate) for gate in TASK_GATES[task]]
    return config


def locked_md5(dvc_lock: Mapping[str, Any], path: str) -> str | None:
    """The md5 ``dvc.lock`` records for the output ``path`` (any stage), or None."""
    for stage in (dvc_lock.get("stages") or {}).values():
        outs = stage.get("outs") if isinstance(stage, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict) and posixpath.normpath(str(out.get("path"))) == path:
                md5 = out.get("md5")
                return str(md5) if isinstance(md5, str) and len(md5) == 32 else None
    return None


def remote_secrets(dvc_config: str) -> list[str]:
    """Secrets the DVC remotes in ``.dvc/config`` usually need (none for local folders)."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(dvc_config)
    except configparser.Error:
        return []
    secrets: list[str] = []
    for section in parser.sections():
        url = parser.get(section, "url", fallback="")
        scheme = url.split("://", 1)[0] if "://" in url else ""
        for secret in REMOTE_SECRETS.get(scheme, ()):
            if secret not in secrets:
                secrets.append(secret)
    return secrets


def render_workflow(template: str, action: str, default_branch: str) -> str:
    """A workflow template with ml-ci's action reference and the default branch filled in."""
    owner_repo, _, ref = action.partition("@")
    text = re.sub(
        r"ml-ci/ml-ci((?:/actions/[a-z-]+)?)@v1", rf"{owner_repo}\1@{ref or 'v1'}", template
    )
    return text.replace("branches: [main]", f"branches: [{default_branch}]")


def pre_commit_config(existing: str | None, action: str, local_hooks: str) -> str | None:
    """The new .pre-commit-config.yaml text, or None when it already uses ml-ci's hooks.

    ``local_hooks`` is ``templates/pre-commit/ml-ci-local.yaml``: ``repo: local`` hooks that run
    the installed ``ml-ci hook ...`` (``language: system``), so they work offline and are the
    version the pull-request check runs; its comment shows the remote-repository form."""
    from string import Template

    owner_repo, _, ref = action.partition("@")
    entry = Template(local_hooks).safe_substitute(owner_repo=owner_repo, ref=ref or "v1")
    if existing is None or not existing.strip():
        return "repos:\n" + entry
    if "ml-ci-config" in existing:
        return None
    if re.search(r"^repos:\s*$", existing, re.M) is None:
        raise InputError(
            ".pre-commit-config.yaml: no top-level 'repos:' list; add ml-ci's hooks by hand"
        )
    return existing.rstrip("\n") + "\n" + entry


#: What ml-ci writes into a working tree (never to be committed): the evaluation record and its
#: temporary files, baseline predictions and timings, reports, the demo's work folder.
IGNORED = (
    "/ml-ci-record.json",
    "/.ml-ci-record.*",
    "/baseline-predictions.csv",
    "/baseline-predictions.csv.timing.json",
    "/ml-ci-report.md",
    "/ml-ci-report.html",
    "/.ml-ci/",
)
IGNORE_HEADER = "# ml-ci outputs (written by ml-ci init)"


def gitignore(existing: str | None) -> str | None:
    """``.gitignore`` with :data:`IGNORED` appended (only the missing lines), or None."""
    present = {line.strip() for line in (existing or "").splitlines()}
    missing = [line for line in IGNORED if line not in present]
    if not missing:
        return None
    head = (existing or "").rstrip("\n")
    block = (
        "\n".join([IGNORE_HEADER, *missing]) if IGNORE_HEADER not in present else "\n".join(missing)
    )
    return (head + "\n\n" if head else "") + block + "\n"


# ---------------------------------------------------------------- I/O


#: Names a default branch usually has, most common first.
USUAL_DEFAULTS = ("main", "master", "trunk", "develop")


def default_branch(
    origin_head: str, remote_branches: list[str], local_branches: list[str], init_default: str
) -> str:
    """The repository's default (release) branch, never merely the branch checked out.

    In order: ``origin/HEAD`` (what ``git clone`` records), the first usual default name
    (:data:`USUAL_DEFAULTS`) among origin's branches, then among the local branches, git's
    ``init.defaultBranch``, main.
    """
    if origin_head.startswith("origin/") and origin_head != "origin/HEAD":
        return origin_head.removeprefix("origin/")
    for branches in (remote_branches, local_branches):
        usual = [name for name in USUAL_DEFAULTS if name in branches]
        if usual:  # several (main and develop): the most common name
            return usual[0]
    return init_default or "main"


def _default_branch(root: Path) -> str:
    from ml_ci import gitutil

    def out(*args: str) -> str:
        return gitutil.git(list(args), root, check=False).strip()

    return default_branch(
        out("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"),
        [
            name.removeprefix("origin/")
            for name in out("branch", "-r", "--format=%(refname:short)").split()
            if name.startswith("origin/")
        ],
        out("branch", "--format=%(refname:short)").split(),
        out("config", "init.defaultBranch"),
    )


def _cached_output(root: Path, relative: str) -> Path | None:
    """The DVC cache file of the output ``relative`` as ``dvc.lock`` records it (the table is
    not checked out, e.g. after ``dvc fetch``), or None. DVC 3 layout, default cache dir."""
    import yaml

    lock = root / "dvc.lock"
    try:
        data = yaml.safe_load(lock.read_text(encoding="utf-8")) if lock.is_file() else None
    except yaml.YAMLError:
        return None
    md5 = locked_md5(data, relative) if isinstance(data, dict) else None
    if md5 is None:
        return None
    path = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    return path if path.is_file() else None


def _guess_from(path: Path, relative: str) -> TaskGuess:
    """:func:`table_guess` of ``path``, read as a table named like ``relative`` (a cache
    file has no suffix, and the readers go by the suffix)."""
    import shutil
    import tempfile

    from ml_ci.config.pipeline import PredictionsConfig
    from ml_ci.pack.predictions import table_guess

    if path.name == posixpath.basename(relative):
        return table_guess(path, PredictionsConfig())
    with tempfile.TemporaryDirectory(prefix="ml-ci-init-") as folder:
        copy = Path(folder) / posixpath.basename(relative)
        shutil.copyfile(path, copy)
        return table_guess(copy, PredictionsConfig())


def execute(settings: InitSettings) -> InitResult:
    """Write ml-ci's files into the repository at ``settings.root`` (see module docstring)."""
    import yaml

    from ml_ci import gitutil
    from ml_ci.config import validate_config
    from ml_ci.pack.predictions import check_table
    from ml_ci.resources import templates_dir

    root = gitutil.repo_root(settings.root)
    if not (root / ".dvc").is_dir():
        raise InputError(f"{root}: not a DVC repository (no .dvc/); run `dvc init` first")
    if "@" not in settings.action or "/" not in settings.action.partition("@")[0]:
        raise InputError(
            f"--action {settings.action!r}: expected OWNER/REPO@REF, e.g. {DEFAULT_ACTION}"
        )
    dvc_yaml_path = root / "dvc.yaml"
    dvc_yaml = (
        yaml.safe_load(dvc_yaml_path.read_text(encoding="utf-8")) if dvc_yaml_path.is_file() else {}
    )
    pipeline = dvc_yaml if isinstance(dvc_yaml, dict) else {}
    config = infer_config(root, pipeline)
    relative = config.get("predictions", {}).get("path", "predictions.csv")
    table = root / relative
    source = table if table.is_file() else _cached_output(root, relative)
    if source is not None:
        task_guess = _guess_from(source, relative)
        config = infer_config(root, pipeline, task_guess)
        where = relative if table.is_file() else f"{relative} (its DVC output in .dvc/cache)"
        reason = f"{task_guess.reason} in {where}"
    else:
        reason = (
            f"no predictions table at {table.relative_to(root).as_posix()} to look at "
            "(run dvc repro, then ml-ci init --force); binary is the default: check it"
        )
    branch = _default_branch(root)
    config["baseline"] = {"default_branch": branch}
    checked = validate_config(config, source="inferred ml-ci.yaml")  # never write a bad one
    result = InitResult(root=str(root), config=config, task=config["task"], task_reason=reason)
    if table.is_file():
        try:  # what `ml-ci validate` will say about the table, said now
            result.warnings = check_table(checked, root, source="ml-ci.yaml").too_small
        except InputError as error:
            result.warnings = [f"ml-ci validate will fail: {error}"]

    files: dict[str, str] = {
        "ml-ci.yaml": "# ml-ci configuration, written by `ml-ci init` (check task and gates).\n"
        + yaml.safe_dump(config, sort_keys=False),
    }
    names = [
        *WORKFLOWS,
        *([DRIFT_WORKFLOW] if settings.drift else []),
        *(LIVE_WORKFLOWS if settings.live else ()),
    ]
    for name in names:
        template = (templates_dir() / "workflows" / name).read_text(encoding="utf-8")
        files[f".github/workflows/{name}"] = render_workflow(template, settings.action, branch)
    # the runbooks incidents link to (docs/runbooks/<page>.md; monitor.runbooks moves them)
    for page in sorted((templates_dir() / "runbooks").glob("*.md")):
        files[f"{RUNBOOKS}/{page.name}"] = page.read_text(encoding="utf-8")

    for relative, text in files.items():
        target = root / relative
        if target.exists() and not settings.force:
            result.skipped.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        result.written.append(relative)

    hooks_file = root / ".pre-commit-config.yaml"
    existing = hooks_file.read_text(encoding="utf-8") if hooks_file.is_file() else None
    local_hooks = (templates_dir() / "pre-commit" / "ml-ci-local.yaml").read_text(encoding="utf-8")
    updated = pre_commit_config(existing, settings.action, local_hooks)
    if updated is None or (existing is not None and not settings.force):
        result.skipped.append(".pre-commit-config.yaml")
    else:
        hooks_file.write_text(updated, encoding="utf-8")
        result.written.append(".pre-commit-config.yaml")

    ignore_file = root / ".gitignore"  # adding lines never loses a user's line: no --force
    ignored = gitignore(ignore_file.read_text(encoding="utf-8") if ignore_file.is_file() else None)
    if ignored is not None:
        ignore_file.write_text(ignored, encoding="utf-8")
        result.written.append(".gitignore")

    dvc_config = root / ".dvc" / "config"
    result.secrets = (
        remote_secrets(dvc_config.read_text(encoding="utf-8")) if dvc_config.is_file() else []
    )
    result.next_steps = _next_steps(result, branch)
    return result


def _next_steps(result: InitResult, branch: str) -> list[str]:
    steps = []
    if result.written:
        steps.append(f"commit: git add {' '.join(result.written)} && git commit -m 'Add ml-ci'")
    if result.skipped:
        steps.append(f"kept existing: {', '.join(result.skipped)} (use --force to overwrite)")
    if result.secrets:
        steps.append(
            f"add repository secrets {', '.join(result.secrets)} for the DVC remote, and pass them "
            "as env: to the ml-ci steps of .github/workflows/ml-ci-pr.yml"
        )
    else:
        steps.append("secrets: none needed (the workflows use the job's GITHUB_TOKEN)")
    steps.append(
        f"branch protection on {branch}: require the status checks {', '.join(REQUIRED_CHECKS)}"
    )
    if "predict" not in result.config:
        steps.append("set predict.command in ml-ci.yaml so the baseline can be scored on new data")
    return steps
