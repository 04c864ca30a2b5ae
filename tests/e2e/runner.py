"""Run a workflow with a real GitHub Actions runner (``act``) on the host, fully offline, with
GitHub's checkout semantics.

GitHub's side is played by a bare repository (the example's ``origin.git``): tests ``git push``
to it, as a developer would, and a run only ever sees what was pushed there.

* **What a run checks out** is what GitHub would give the event (:meth:`Act.run`):
  ``pull_request`` / ``pull_request_review``: the test-merge commit of the pull request's
  head into the base branch's tip, kept on the remote as ``refs/pull/N/merge`` (and the head
  as ``refs/pull/N/head``), so ``GITHUB_SHA`` is the merge commit and ``GITHUB_REF`` is
  ``refs/pull/N/merge``; ``push``: the pushed commit (``after``, which must be the branch's
  tip on the remote); anything else (``workflow_run``, ``schedule``, ``issue_comment``,
  ``workflow_dispatch``): the tip of the default branch (or of the dispatched ref).
* act runs from a fresh clone detached at that commit (so ``GITHUB_SHA`` and the workflow
  file are that commit's), never from the test's working tree; ``--no-skip-checkout`` makes
  every ``actions/checkout`` call the stand-in (tests/e2e/stand-ins/checkout), which clones
  from the bare repository exactly as actions/checkout fetches from GitHub: ``origin`` is
  ``https://github.com/<owner>/<repo>``, which git's ``insteadOf`` sends to the bare repository
  through a transport that, like GitHub, lets a push through only with the Authorization
  header (``persist-credentials: true``, or given to the one command); refspecs,
  detached/branch checkout and ``fetch-depth`` follow actions/checkout.
  The working tree of the test is never copied, so a test cannot check out the head directly.
* ``-P ubuntu-latest=-self-hosted``: steps run on this machine, no container;
  ``--action-offline-mode --pull=false``: act never fetches an action or an image; remote
  actions resolve to local folders (``--local-repository``): ml-ci's own action to a committed
  snapshot of this working tree, the pinned GitHub actions to the stand-ins in
  tests/e2e/stand-ins/; the artifact/cache servers bind 127.0.0.1 only (the cache server is
  off); ``GITHUB_API_URL`` points at the fake GitHub API.
* What CI's machine provides and a project does not commit: the DVC remote's location (the
  stand-in checkout writes it to ``.dvc/config.local``, as a credentials step would) and the
  job's token, known to the fake GitHub as ``github-actions[bot]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
#: Who GitHub's server-side merges are made by (test merges and the merge button).
GITHUB_IDENTITY = ("GitHub", "noreply@github.com")
#: Events whose runs GitHub starts on the pull request's test-merge commit.
PULL_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment")


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def _github_env() -> dict[str, str]:
    name, email = GITHUB_IDENTITY
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
    )
    return env


@dataclass
class GitHubRepo:
    """The repository as GitHub's server holds it: a bare repository tests push to."""

    path: Path
    default_branch: str = "main"

    def tip(self, branch: str) -> str:
        try:
            return git(self.path, "rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}")
        except AssertionError:
            raise AssertionError(
                f"branch {branch!r} is not on the remote {self.path}; push it first"
            ) from None

    def rev(self, ref: str) -> str:
        return git(self.path, "rev-parse", "--verify", ref)

    def parents(self, sha: str) -> list[str]:
        return git(self.path, "rev-parse", f"{sha}^@").split()

    def has_commit(self, sha: str) -> bool:
        done = subprocess.run(
            ["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=self.path, capture_output=True
        )
        return done.returncode == 0

    def _merge(self, first: str, second: str, message: str) -> str:
        """A merge commit of ``second`` into ``first`` (first parent), made server-side."""
        done = subprocess.run(
            ["git", "merge-tree", "--write-tree", first, second],
            cwd=self.path, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"{second[:7]} does not merge cleanly into {first[:7]}")
        tree = done.stdout.split()[0]
        return git(
            self.path, "commit-tree", tree, "-p", first, "-p", second, "-m", message,
            env=_github_env(),
        )  # fmt: skip

    def test_merge(self, number: int, head: str, base_ref: str) -> str:
        """What GitHub does when a pull request is opened or its head or base moves: the head
        as ``refs/pull/N/head`` and a merge of it into the base's tip as ``refs/pull/N/merge``
        (first parent the base, second the head); kept while neither moves."""
        if not self.has_commit(head):
            raise AssertionError(
                f"pull request #{number}'s head {head[:7]} is not on the remote {self.path}: "
                "git push the branch before the pull_request event"
            )
        base = self.tip(base_ref)
        merge_ref = f"refs/pull/{number}/merge"
        git(self.path, "update-ref", f"refs/pull/{number}/head", head)
        done = subprocess.run(
            ["git", "log", "-1", "--format=%P", merge_ref, "--"],
            cwd=self.path, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode == 0 and done.stdout.split() == [base, head]:
            return git(self.path, "rev-parse", merge_ref)
        merge = self._merge(base, head, f"Merge {head} into {base}")
        git(self.path, "update-ref", merge_ref, merge)
        return merge

    def merge_pull(self, number: int, head: str, head_label: str, title: str, base_ref: str) -> str:
        """The merge button ("Create a merge commit"): a new merge commit of the head into the
        base's tip, which becomes the base branch's tip; its SHA."""
        base = self.tip(base_ref)
        message = f"Merge pull request #{number} from {head_label}\n\n{title}"
        merge = self._merge(base, head, message)
        git(self.path, "update-ref", f"refs/heads/{base_ref}", merge, base)
        return merge


@dataclass
class Act:
    """One example repository driven by act; ``artifacts`` is shared by all its runs."""

    repo: Path
    origin: GitHubRepo
    repository: str
    ml_ci: Path
    api_url: str
    artifacts: Path
    runs: Path
    dvc_config_local: str = ""
    token: str = "ghs_e2e"
    log_dir: Path | None = None
    gh: FakeGitHub | None = None
    #: commits the runs checked out, in order: (event, GITHUB_SHA)
    checked_out: list[tuple[str, str]] = field(default_factory=list)

    def event_commit(self, event: str, payload: dict[str, Any]) -> str:
        """The commit GitHub runs ``event`` on (``GITHUB_SHA``); pull request events first
        update the remote's ``refs/pull/N/*`` as GitHub does."""
        if event in PULL_EVENTS:
            pull = payload["pull_request"]
            head, base_ref = pull["head"]["sha"], pull["base"]["ref"]
            branch = pull["head"]["ref"]
            if self.origin.tip(branch) != head:
                raise AssertionError(
                    f"the event's head {head[:7]} is not the tip of {branch!r} on the remote: "
                    "git push the branch before the pull_request event"
                )
            return self.origin.test_merge(int(pull["number"]), head, base_ref)
        if event == "push":
            ref, after = payload["ref"], payload["after"]
            branch = ref.removeprefix("refs/heads/")
            if self.origin.tip(branch) != after:
                raise AssertionError(
                    f"the push event's after {after[:7]} is not {ref} on the remote"
                )
            return str(after)
        if event == "workflow_dispatch":
            return self.origin.tip(str(payload["ref"]).removeprefix("refs/heads/"))
        return self.origin.tip(self.origin.default_branch)

    def _clone_at(self, sha: str, name: str) -> Path:
        """act's working directory: a fresh clone detached at ``sha``, whose ``github`` remote
        names the repository (never the test's working tree)."""
        self.runs.mkdir(parents=True, exist_ok=True)
        clone = self.runs / f"{len(list(self.runs.iterdir())):02d}-{name}"
        clone.mkdir()
        git(clone, "init", "-q")
        git(clone, "fetch", "-q", "--no-tags", f"file://{self.origin.path}", sha)
        git(clone, "checkout", "-q", "--detach", sha)
        git(clone, "remote", "add", GITHUB_REMOTE, f"https://github.com/{self.repository}.git")
        return clone

    def run(
        self, event: str, workflow: str, payload: Path, *, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        sha = self.event_commit(event, json.loads(payload.read_text(encoding="utf-8")))
        cwd = self._clone_at(sha, event)
        if not (cwd / ".github" / "workflows" / workflow).is_file():
            raise AssertionError(
                f"{workflow} is not in {sha[:7]}, the commit GitHub runs {event} on: "
                "workflows of workflow_run, issue_comment and schedule events come from the "
                "default branch; push them there"
            )
        self.checked_out.append((event, sha))
        act = shutil.which("act", path=str(Path(sys.executable).parent)) or "act"
        args = [
            act, event, "-e", str(payload), "-W", f".github/workflows/{workflow}",
            "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--pull=false",
            "--no-skip-checkout", "--remote-name", GITHUB_REMOTE,
            "--defaultbranch", self.origin.default_branch,
            "--artifact-server-addr", "127.0.0.1", "--cache-server-addr", "127.0.0.1",
            "--no-cache-server",
            "--env", f"GITHUB_API_URL={self.api_url}",
            "--env", f"ML_CI_E2E_ARTIFACTS={self.artifacts}",
            "--env", f"ML_CI_E2E_ORIGIN={self.origin.path}",
            "--env", f"ML_CI_E2E_DVC_CONFIG_LOCAL={self.dvc_config_local}",
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
            args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=600
        )
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            count = len(list(self.log_dir.iterdir()))
            (self.log_dir / f"{count:02d}-{event}.log").write_text(done.stdout + done.stderr)
        return done

    def push(self, *refs: str) -> None:
        """``git push origin <refs>`` from the test's working tree (as a developer would)."""
        git(self.repo, "push", "-q", "origin", *refs)

    def merge_pull(self, number: int) -> str:
        """Press the merge button of pull request ``number`` (head, base and title as the fake
        GitHub knows them): the merge commit becomes the remote base branch's tip, the fake
        marks the pull request merged, and the working tree's base branch is moved to it."""
        assert self.gh is not None, "merge_pull needs the fake GitHub (act_for_example)"
        pull = self.gh.pull(self.repository, number)
        head, base_ref = pull["head"]["sha"], pull["base"]["ref"]
        merge = self.origin.merge_pull(number, head, pull["head"]["label"], pull["title"], base_ref)
        self.gh.merge_pull(self.repository, number, merge)
        git(self.repo, "fetch", "-q", "origin")
        if git(self.repo, "rev-parse", "--abbrev-ref", "HEAD") == base_ref:
            git(self.repo, "merge", "-q", "--ff-only", f"origin/{base_ref}")
        else:
            git(self.repo, "branch", "-f", base_ref, f"origin/{base_ref}")
        return merge


def dvc_config_local(remote_name: str, url: Path) -> str:
    """A ``.dvc/config.local`` pointing DVC remote ``remote_name`` at ``url``."""
    return f"['remote \"{remote_name}\"']\n    url = {url}\n"


def _default_remote(repo: Path) -> str:
    match = re.search(r"^\s*remote\s*=\s*(\S+)", (repo / ".dvc" / "config").read_text(), re.M)
    assert match, "the example's .dvc/config names no default remote"
    return match.group(1)


def act_for_example(
    example: ExampleRepo,
    gh: FakeGitHub,
    work: Path,
    repository: str,
    *,
    ml_ci: Path | None = None,
) -> Act:
    """An :class:`Act` on the example repository (its ``origin.git`` plays GitHub's copy),
    with what CI's machine would provide (not project files): the DVC remote's location and
    the job's token known to the fake GitHub as ``github-actions[bot]``. ``ml_ci``: an
    existing snapshot of this project (made once per module by a caller that runs many)."""
    act = Act(
        repo=example.root,
        origin=GitHubRepo(example.git_remote),
        repository=repository,
        ml_ci=ml_ci or snapshot_project(work / "ml-ci"),
        api_url=gh.url,
        artifacts=work / "artifacts",
        runs=work / "act-runs",
        dvc_config_local=dvc_config_local(_default_remote(example.root), example.dvc_remote),
        log_dir=work / "act-logs",
        gh=gh,
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
