"""End to end: ``actions/setup`` installs ml-ci from the action's own checkout under act.

Nothing named ``ml-ci`` is on the runner's PATH, so the installer really creates a venv under
``$RUNNER_TEMP`` and pip-installs the action's checkout; pip reads only a local wheelhouse
(``ML_CI_PIP_ARGS=--no-index --find-links ...``), so the run stays offline. The wheelhouse is
built once at set-up (``pip wheel`` of the project's dependencies and build requirements) and
kept in a cache folder keyed by those requirements and the interpreter, so later runs reuse it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from filelock import FileLock

from tests.e2e.runner import PINNED, STAND_INS, tail
from tests.pack.snapshot import PROJECT, commit_all, snapshot_project

CACHE = Path(os.environ.get("ML_CI_TEST_CACHE", Path.home() / ".cache" / "ml-ci-tests"))
WORKFLOW = """\
name: setup
on: push
permissions: {}
jobs:
  setup:
    runs-on: ubuntu-latest
    steps:
      - uses: ml-ci/ml-ci/actions/setup@v1
        id: setup
      - name: a later step finds the installed ml-ci
        shell: bash
        env:
          VERSION: ${{ steps.setup.outputs.version }}
        run: |
          where="$(command -v ml-ci)"
          echo "ml-ci-at=$where"
          case "$where" in "$RUNNER_TEMP"/*) ;; *) echo "not under RUNNER_TEMP"; exit 1 ;; esac
          echo "ml-ci-version=$(ml-ci --version)"
          test "$(ml-ci --version | awk '{print $NF}')" = "$VERSION"
          "$(dirname "$where")/python" -c "import ml_ci.compare.engine, dvc.repo, sklearn"
"""


def _requirements() -> list[str]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    return [*project["build-system"]["requires"], *project["project"]["dependencies"]]


def wheelhouse() -> Path:
    """Wheels of ml-ci's dependencies and build requirements, built once per requirement set
    and interpreter (``pip wheel``, the only step that may use the package index)."""
    requirements = _requirements()
    key = hashlib.sha256(
        json.dumps([sys.version_info[:2], sys.platform, requirements]).encode()
    ).hexdigest()[:16]
    folder = CACHE / f"wheelhouse-{key}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not (folder / ".complete").is_file():
            partial = folder.with_name(folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(partial),
                 *requirements],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            (folder / ".complete").write_text("\n".join(requirements) + "\n")
    return folder


def path_without_ml_ci() -> str:
    """PATH with every folder that holds an ``ml-ci`` left out."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not (Path(f) / "ml-ci").exists())


@pytest.mark.slow
def test_setup_installs_ml_ci_from_the_action_checkout(tmp_path: Path) -> None:
    wheels = wheelhouse()
    version = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["version"]
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "setup.yml").write_text(WORKFLOW)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit_all(repo, "workflow")
    action = snapshot_project(tmp_path / "ml-ci")

    path = path_without_ml_ci()
    assert shutil.which("ml-ci", path=path) is None
    act = shutil.which("act", path=str(Path(sys.executable).parent)) or "act"
    args = [
        act, "push", "-W", ".github/workflows/setup.yml",
        "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--pull=false",
        "--artifact-server-addr", "127.0.0.1", "--cache-server-addr", "127.0.0.1",
        "--no-cache-server",
        "--local-repository", f"ml-ci/ml-ci@v1={action}",
        # --no-compile: byte-compiling ~100 packages is most of the install's time
        "--env", f"ML_CI_PIP_ARGS=--no-index --find-links {wheels} --no-compile",
    ]  # fmt: skip
    for ref, folder in PINNED.items():
        args += ["--local-repository", f"{ref}={STAND_INS / folder}"]
    env = {**os.environ, "PATH": path}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, tail(done)
    assert f"ml-ci-version=ml-ci, version {version}" in output, tail(done)
    assert "already installed" not in output  # really installed, not reused
    assert "Successfully installed" in output  # pip ran, from the wheelhouse only
    assert f"/ml-ci-{version}/bin/ml-ci" in output  # the venv install.py made
