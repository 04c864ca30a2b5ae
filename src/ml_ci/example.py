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
from dataclasses import dataclass
from pathlib import Path

from ml_ci import gitutil
from ml_ci.dvcrepo import run_dvc, with_progress
from ml_ci.resources import example_dir

EXAMPLE_NAME = "breast-cancer"
CANDIDATE_BRANCH = "candidate"
BASE_BRANCH = "main"
#: What the candidate branch changes: a parameter and a planted shift in one feature.
CANDIDATE_PARAM = ("train", "C", 0.5)
CANDIDATE_SHIFT = "mean_texture=2.0"
GIT_USER = ("ml-ci example", "example@ml-ci.invalid")


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


def build_example(
    workdir: Path, *, progress: Callable[[str], None] | None = None
) -> ExampleRepo:
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
    run_dvc(["config", "core.analytics", "false"], root)
    run_dvc(["config", "core.check_update", "false"], root)
    # relative to the repo root; DVC stores it relative to .dvc/config, so copies stay valid
    run_dvc(["remote", "add", "-d", "local", "../dvc-remote"], root)

    say("main: generate data/raw.csv, dvc add, dvc repro")
    _make_raw(root, shift=None)
    run_dvc(["add", "-q", "data/raw.csv"], root)
    run_dvc(["repro", "-q"], root)
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
    run_dvc(["repro", "-q"], root)
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
