"""Root fixtures shared by every test folder (see tests/FIXTURES.md).

* ``git_env`` (session, autouse): git and DVC see no user or system config; commits get a
  fixed identity; DVC never phones home.
* ``example_build`` (session): the bundled example built ONCE (one build shared by the
  xdist workers, guarded by a file lock) -- treat it as read-only.
* ``example_repo`` (function): a private copy of that build in ``tmp_path``; change it freely.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from ml_ci.example import ExampleRepo, build_example

GIT_IDENTITY = ("ml-ci tests", "tests@ml-ci.invalid")


@pytest.fixture(autouse=True)
def _dvc_logging_to_live_streams() -> Iterator[None]:
    """Keep in-process DVC from logging to a stream an earlier test's capture has closed.

    DVC binds its log handlers to ``sys.stdout``/``sys.stderr`` when it first sets up logging;
    under pytest those are per-test capture files, so a later in-process DVC call in the same
    worker would raise ``LoggingException`` on write.
    """
    import logging
    import sys

    for handler in logging.getLogger("dvc").handlers:
        stream = getattr(handler, "stream", None)
        if stream is not None and getattr(stream, "closed", False):
            handler.stream = sys.stderr  # setStream() would flush the closed one
    yield


@pytest.fixture(scope="session", autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Isolate git and DVC from the user's configuration for the whole session.

    Yields the variables it set (handy for ``subprocess.run(..., env=...)``).
    """
    home = tmp_path_factory.mktemp("config-home")
    gitconfig = home / "gitconfig"
    gitconfig.write_text(
        "[user]\n"
        f"\tname = {GIT_IDENTITY[0]}\n"
        f"\temail = {GIT_IDENTITY[1]}\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n"
        "[tag]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    (home / "dvc-global").mkdir()
    (home / "dvc-system").mkdir()
    values = {
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "DVC_STUDIO_OFFLINE": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
        "NO_COLOR": "1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            patch.setenv(name, value)
        # a GitHub Actions runner's variables would leak into the record's repo info
        for name in [name for name in os.environ if name.startswith("GITHUB_")]:
            patch.delenv(name)
        yield values


@pytest.fixture(scope="session")
def example_build(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, git_env: dict[str, str]
) -> ExampleRepo:
    """The example, built once per test run (read-only: copy it with ``example_repo``)."""
    if worker_id == "master":  # not under xdist
        return build_example(tmp_path_factory.mktemp("example-build"))
    # xdist: the workers share one build in the common parent of their temp folders
    shared = tmp_path_factory.getbasetemp().parent / "example-build"
    with FileLock(str(shared) + ".lock"):
        if (shared / "done").is_file():
            return ExampleRepo.at(shared)
        if shared.exists():  # a build that crashed halfway
            shutil.rmtree(shared)
        built = build_example(shared)
        (shared / "done").write_text("ok\n", encoding="utf-8")
        return built


@pytest.fixture
def example_repo(example_build: ExampleRepo, tmp_path: Path) -> ExampleRepo:
    """A private copy of the built example: ``candidate`` checked out, ``main`` the base."""
    workdir = tmp_path / "example"
    shutil.copytree(example_build.workdir, workdir, symlinks=True)
    (workdir / "done").unlink(missing_ok=True)
    return ExampleRepo.at(workdir)
