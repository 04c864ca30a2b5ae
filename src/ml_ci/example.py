"""Build the bundled example: a real git + DVC repository with a base and a candidate.

:func:`build_example` lays out, under ``workdir``::

    repo/         the git + DVC working tree (branch ``candidate`` checked out)
    dvc-remote/   the DVC remote, a local folder; the repo refers to it by a RELATIVE path
    origin.git/   a bare git repository, the repo's ``origin`` (``main`` and ``candidate``)

so copying ``workdir`` elsewhere gives a working copy (tests copy one build per test).
``main`` trains with ``train.C = 1.0``; ``candidate`` changes it to 0.5 and shifts the raw
``mean_texture`` column by +2.0 (a small drift the drift check should see). Both commits
have their pipeline reproduced (``dvc repro``) and their data pushed. No network is used.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ml_ci import gitutil
from ml_ci.dvcrepo import dvc_env, run_dvc, with_progress
from ml_ci.resources import example_dir

EXAMPLE_NAME = "breast-cancer"
CANDIDATE_BRANCH = "candidate"
BASE_BRANCH = "main"
#: What the candidate branch changes: a parameter and a planted shift in one feature.
CANDIDATE_PARAM = ("train", "C", 0.5)
CANDIDATE_SHIFT = "mean_texture=2.0"
GIT_USER = ("ml-ci example", "example@ml-ci.invalid")
DVC_CONFIG = """\
[core]
    analytics = false
    check_update = false
    remote = local
['remote "local"']
    url = ../../dvc-remote
"""


@dataclass(frozen=True)
class ExampleRepo:
    """A built example. Paths are absolute; SHAs are the two commits' full SHAs."""

    root: Path
    dvc_remote: Path
    git_remote: Path
    main_sha: str
    candidate_branch: str
    candidate_sha: str

    @property
    def workdir(self) -> Path:
        return self.root.parent

    @classmethod
    def at(cls, workdir: Path) -> ExampleRepo:
        """Describe an already-built (possibly copied) example in ``workdir``.

        Points ``origin`` at ``workdir/origin.git`` (a copy must not push to the original).
        """
        root = workdir / "repo"
        git_remote = workdir / "origin.git"
        gitutil.git(["remote", "set-url", "origin", str(git_remote)], root)
        return cls(
            root=root,
            dvc_remote=workdir / "dvc-remote",
            git_remote=git_remote,
            main_sha=gitutil.rev_parse(root, BASE_BRANCH),
            candidate_branch=CANDIDATE_BRANCH,
            candidate_sha=gitutil.rev_parse(root, CANDIDATE_BRANCH),
        )


def build_example(workdir: Path, *, progress: Callable[[str], None] | None = None) -> ExampleRepo:
    """Build the example repository in ``workdir`` (created; must not hold a ``repo/``)."""
    say = with_progress(progress)
    workdir = workdir.resolve()
    root = workdir / "repo"
    dvc_remote = workdir / "dvc-remote"
    git_remote = workdir / "origin.git"
    workdir.mkdir(parents=True, exist_ok=True)
    if root.exists():
        from ml_ci.errors import InputError

        raise InputError(f"{root} already exists; pick an empty folder for the example")

    say(f"copying the example project to {root}")
    shutil.copytree(example_dir(EXAMPLE_NAME), root, ignore=shutil.ignore_patterns("__pycache__"))
    dvc_remote.mkdir()

    say("git init + dvc init")
    git = _git_in(root)
    git(["init", "-q", "-b", BASE_BRANCH])
    git(["config", "user.name", GIT_USER[0]])
    git(["config", "user.email", GIT_USER[1]])
    git(["config", "commit.gpgsign", "false"])
    run_dvc(["init", "-q"], root)
    # what `dvc config core.analytics false`, `dvc config core.check_update false` and
    # `dvc remote add -d local ../dvc-remote` write (one file instead of three dvc runs).
    # The url is relative to .dvc/, so a copy of the whole workdir stays valid.
    (root / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")

    say("main: generate data/raw.csv, dvc add, dvc repro")
    _make_raw(root, shift=None)
    run_dvc(["add", "-q", "data/raw.csv"], root)
    _repro(root)
    git(["add", "-A"])
    git(["commit", "-q", "-m", "Baseline: logistic regression on breast cancer data"])
    run_dvc(["push", "-q"], root)
    main_sha = gitutil.rev_parse(root, "HEAD")

    say("origin.git: bare remote with main")
    gitutil.git(["init", "-q", "--bare", "-b", BASE_BRANCH, str(git_remote)], workdir)
    git(["remote", "add", "origin", str(git_remote)])
    git(["push", "-q", "origin", BASE_BRANCH])

    say(f"{CANDIDATE_BRANCH}: change {'.'.join(CANDIDATE_PARAM[:2])}, shift {CANDIDATE_SHIFT}")
    git(["checkout", "-q", "-b", CANDIDATE_BRANCH])
    _set_param(root / "params.yaml", CANDIDATE_PARAM)
    _make_raw(root, shift=CANDIDATE_SHIFT)
    run_dvc(["add", "-q", "data/raw.csv"], root)
    _repro(root)
    git(["add", "-A"])
    git(["commit", "-q", "-m", "Candidate: stronger regularisation (C=0.5); new raw data"])
    run_dvc(["push", "-q"], root)
    git(["push", "-q", "-u", "origin", CANDIDATE_BRANCH])
    candidate_sha = gitutil.rev_parse(root, "HEAD")
    say("example built")
    return ExampleRepo(
        root=root,
        dvc_remote=dvc_remote,
        git_remote=git_remote,
        main_sha=main_sha,
        candidate_branch=CANDIDATE_BRANCH,
        candidate_sha=candidate_sha,
    )


def _git_in(root: Path) -> Callable[[list[str]], str]:
    def run(args: list[str]) -> str:
        return gitutil.git(args, root)

    return run


def _repro(root: Path) -> None:
    """``dvc repro`` in the environment ``ml-ci repro`` pins, so verification agrees."""
    from ml_ci.repro import PINNED_ENV

    run_dvc(["repro", "-q"], root, env=dvc_env(PINNED_ENV))


def _make_raw(root: Path, *, shift: str | None) -> None:
    """Run the example's own data generator, with this interpreter (it has scikit-learn)."""
    import subprocess

    args = [sys.executable, "src/make_raw.py"] + (["--shift", shift] if shift else [])
    subprocess.run(args, cwd=root, check=True, capture_output=True)


def _set_param(params_file: Path, change: tuple[str, str, float]) -> None:
    """Set one ``section.key`` in params.yaml."""
    import yaml

    section, key, value = change
    data = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    data[section][key] = value
    params_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


# --- the demo: the pipeline's steps run on a freshly built example -------------------------


@dataclass
class DemoContext:
    """What the demo steps share. ``checkout`` is a fresh clone of ``origin`` at the
    candidate, as a CI runner would have it; steps write the record there."""

    workdir: Path
    progress: Callable[[str], None]
    example: ExampleRepo | None = None
    checkout: Path | None = None
    record_path: Path | None = None
    report_path: Path | None = None
    verdicts: dict[str, str] = field(default_factory=dict)

    def require_checkout(self) -> Path:
        if self.checkout is None:
            raise RuntimeError("the demo's clone step must run first")
        return self.checkout


#: A demo step: its name and a function that runs it and returns a short verdict.
DemoStep = tuple[str, Callable[[DemoContext], str]]


def _step_build(context: DemoContext) -> str:
    context.example = build_example(context.workdir, progress=context.progress)
    return "built"


def _step_clone(context: DemoContext) -> str:
    if context.example is None:
        raise RuntimeError("the demo's build step must run first")
    # next to the remotes, so the DVC remote's relative url resolves as in the example
    checkout = context.example.workdir / "ci-checkout"
    gitutil.git(["clone", "-q", str(context.example.git_remote), str(checkout)], context.workdir)
    gitutil.git(["checkout", "-q", CANDIDATE_BRANCH], checkout)
    gitutil.git(["branch", "-q", BASE_BRANCH, f"origin/{BASE_BRANCH}"], checkout, check=False)
    context.checkout = checkout
    return f"cloned {CANDIDATE_BRANCH}"


def _step_pull(context: DemoContext) -> str:
    from ml_ci.data import PullSettings
    from ml_ci.data import execute as pull

    result = pull(PullSettings(start=context.require_checkout()), progress=context.progress)
    return f"{result.fetched} fetched"


def _step_repro(context: DemoContext) -> str:
    from ml_ci.config import load_config
    from ml_ci.repro import ReproSettings, write_record
    from ml_ci.repro import execute as repro

    root = context.require_checkout()
    config = load_config(root / "ml-ci.yaml")
    result = repro(ReproSettings(root=root, config=config), progress=context.progress)
    context.record_path = write_record(result, config, root / "ml-ci-record.json")
    return result.section.verdict


#: The demo's steps, in order. Later stages append theirs (compare, drift, report, ...).
DEMO_STEPS: list[DemoStep] = [
    ("build", _step_build),
    ("clone", _step_clone),
    ("pull", _step_pull),
    ("repro", _step_repro),
]


def run_demo(
    workdir: Path,
    *,
    steps: list[DemoStep] | None = None,
    example: ExampleRepo | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoContext:
    """Run ``steps`` (default :data:`DEMO_STEPS`) in ``workdir``; each verdict is kept.

    ``example``: an already-built example, for running the steps after ``build``.
    """
    context = DemoContext(
        workdir=workdir.resolve(), progress=with_progress(progress), example=example
    )
    for name, step in steps if steps is not None else DEMO_STEPS:
        context.progress(f"demo step: {name}")
        context.verdicts[name] = step(context)
    return context
