"""Run a workflow with a real GitHub Actions runner (``act``) on the host, fully offline.

* ``-P ubuntu-latest=-self-hosted``: steps run on this machine, no container;
* ``--action-offline-mode --pull=false``: act never fetches an action or an image;
* remote actions resolve to local folders (``--local-repository``): ml-ci's own action to a
  committed snapshot of this working tree, upload/download-artifact and setup-python to the
  stand-ins in tests/e2e/stand-ins/ (actions/checkout is done by act itself: it copies the
  working tree, and calls the checkout stand-in only for a checkout with `ref:`);
* the artifact/cache servers bind 127.0.0.1 only (the cache server is off);
* ``GITHUB_API_URL`` points at the fake GitHub API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ml_ci.example import ExampleRepo
from tests.fakegithub.server import FakeGitHub
from tests.pack.snapshot import snapshot_project

STAND_INS = Path(__file__).resolve().parent / "stand-ins"
PINNED = {
    "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8": "checkout",
    "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02": "upload-artifact",
    "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093": "download-artifact",
    "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065": "setup-python",
}
GITHUB_REMOTE = "github"  # act reads github.repository from this remote's URL


@dataclass
class Act:
    """One example repository driven by act; ``artifacts`` is shared by all its runs."""

    repo: Path
    ml_ci: Path
    api_url: str
    artifacts: Path
    token: str = "ghs_e2e"
    log_dir: Path | None = None

    def run(
        self, event: str, workflow: str, payload: Path, *, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        act = shutil.which("act", path=str(Path(sys.executable).parent)) or "act"
        args = [
            act, event, "-e", str(payload), "-W", f".github/workflows/{workflow}",
            "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--pull=false",
            "--use-gitignore=false", "--remote-name", GITHUB_REMOTE, "--defaultbranch", "main",
            "--artifact-server-addr", "127.0.0.1", "--cache-server-addr", "127.0.0.1",
            "--no-cache-server",
            "--env", f"GITHUB_API_URL={self.api_url}",
            "--env", f"ML_CI_E2E_ARTIFACTS={self.artifacts}",
            "--env", f"ML_CI_E2E_REPO={self.repo}",
            "-s", f"GITHUB_TOKEN={self.token}",
            "--local-repository", f"ml-ci/ml-ci@v1={self.ml_ci}",
        ]  # fmt: skip
        for ref, folder in PINNED.items():
            args += ["--local-repository", f"{ref}={STAND_INS / folder}"]
        for name, value in (env or {}).items():
            args += ["--env", f"{name}={value}"]
        environ = dict(os.environ)
        # the ml-ci under test is this venv's (same version as the snapshot: install reuses it)
        environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ['PATH']}"
        done = subprocess.run(
            args, cwd=self.repo, env=environ, capture_output=True, text=True, timeout=600
        )
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            count = len(list(self.log_dir.iterdir()))
            (self.log_dir / f"{count:02d}-{event}.log").write_text(done.stdout + done.stderr)
        return done


def act_for_example(example: ExampleRepo, gh: FakeGitHub, work: Path, repository: str) -> Act:
    """An :class:`Act` on the example repository, with what CI's machine would provide (not
    project files): the repository's GitHub name as a remote, the DVC remote's location for
    act's copy of the working tree (config.local, the per-machine config), and the job's
    token known to the fake GitHub as ``github-actions[bot]``."""
    repo = example.root
    subprocess.run(
        ["git", "remote", "add", GITHUB_REMOTE, f"https://github.com/{repository}.git"],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "dvc", "remote", "modify", "--local", "local", "url",
         str(example.dvc_remote)],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip
    act = Act(
        repo=repo,
        ml_ci=snapshot_project(work / "ml-ci"),
        api_url=gh.url,
        artifacts=work / "artifacts",
        log_dir=work / "act-logs",
    )
    gh.add_token(act.token, "github-actions[bot]", app=True)
    gh.add_repo(repository)
    return act


def ml_ci_init(repo: Path, *args: str) -> list[str]:
    """Run ``ml-ci init`` in ``repo`` as a new user would; the files it wrote."""
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "init", *args, "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    written: list[str] = json.loads(done.stdout)["written"]
    return written


def tail(done: subprocess.CompletedProcess[str]) -> str:
    """The end of a run's output, for assertion messages."""
    return (done.stdout + done.stderr)[-6000:]
