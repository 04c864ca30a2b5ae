"""Fixtures of the end-to-end tests: the fake GitHub API (in-process, 127.0.0.1), and the set-up
the act tests share (built once per session, copied per test).

* ``adopted_build`` (session): the example as a new user adopts ml-ci -- ``ml-ci init`` on
  ``main``, committed and pushed, nothing edited by hand; ``candidate`` (pushed) is untouched.
* ``adopted`` (function): a private copy of it in ``tmp_path``.
* ``ml_ci_snapshot`` (session): one committed snapshot of this project for act's
  ``--local-repository`` (it never changes during a run).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ml_ci.example import ExampleRepo
from tests.e2e.runner import ml_ci_init
from tests.fakegithub.plugin import fake_github  # noqa: F401
from tests.pack.snapshot import commit_all, snapshot_project

WORKFLOWS = (
    ".github/workflows/ml-ci-pr.yml",
    ".github/workflows/ml-ci-comment.yml",
    ".github/workflows/ml-ci-approvals.yml",
    ".github/workflows/ml-ci-release.yml",
    ".github/workflows/ml-ci-promote.yml",
)


def _copy(example: ExampleRepo, workdir: Path) -> ExampleRepo:
    shutil.copytree(example.workdir, workdir, symlinks=True)
    (workdir / "done").unlink(missing_ok=True)
    return ExampleRepo.at(workdir)


@pytest.fixture(scope="session")
def adopted_build(
    example_build: ExampleRepo, tmp_path_factory: pytest.TempPathFactory
) -> ExampleRepo:
    """The example with ml-ci adopted on ``main`` (read-only: copy it with ``adopted``)."""
    example = _copy(example_build, tmp_path_factory.mktemp("adopted") / "example")
    repo = example.root
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    written = ml_ci_init(repo)
    assert set(WORKFLOWS) <= set(written), written
    commit_all(repo, "Add ml-ci")
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", example.candidate_branch], cwd=repo, check=True)
    return ExampleRepo.at(example.workdir)


@pytest.fixture
def adopted(adopted_build: ExampleRepo, tmp_path: Path) -> ExampleRepo:
    """A private copy of ``adopted_build``: ``candidate`` checked out, ``main`` has ml-ci."""
    return _copy(adopted_build, tmp_path / "example")


@pytest.fixture(scope="session")
def ml_ci_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_project(tmp_path_factory.mktemp("snapshot") / "ml-ci")
