"""End to end: the workflow templates `ml-ci init` writes, run by a real Actions runner (act).

One test drives the whole life of a pull request on a fresh copy of the example project, as a
new user would have it (``ml-ci init``, commit, nothing edited by hand):

1. pull_request opened -> the check runs pull, repro, baseline, compare, report and uploads
   the record; the example's candidate is inconclusive on some gates, so the job fails on
   its last step only;
2. workflow_run -> the fork-safe commenter posts exactly one comment and the ml-ci/gates status;
3. a second push (synchronize) -> check + commenter again: the SAME comment is updated;
4. an approving review -> the approvals workflow sets ml-ci/governance to success;
5. merge, push to main -> the release workflow tags the model and pushes the tag;
6. by hand (workflow_dispatch) -> the promote workflow assigns that version to production.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ml_ci.example import ExampleRepo
from tests.e2e import events
from tests.e2e.runner import act_for_example, ml_ci_init, tail
from tests.fakegithub.server import FakeGitHub
from tests.pack.snapshot import commit_all

REPO = events.REPO
PR = 7


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _statuses(gh: FakeGitHub, sha: str, context: str) -> list[str]:
    return [s["state"] for s in gh.statuses(REPO, sha) if s["context"] == context]


@pytest.mark.slow
def test_pull_request_lifecycle_under_act(
    example_repo: ExampleRepo, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    repo = example_repo.root
    # --- a new user adds ml-ci: `ml-ci init`, then commits what it wrote
    assert ".github/workflows/ml-ci-pr.yml" in ml_ci_init(repo)
    head1 = commit_all(repo, "Add ml-ci")
    base = example_repo.main_sha
    gh = fake_github
    act = act_for_example(example_repo, gh, tmp_path, REPO)
    gh.add_collaborator(REPO, "alice", "maintain")
    gh.add_pull(REPO, PR, head1, "bob", head_ref="candidate", base_sha=base)
    payloads = tmp_path / "events"
    payloads.mkdir()

    # --- 1. the pull-request check (read-only) on the untouched example
    check = act.run(
        "pull_request",
        "ml-ci-pr.yml",
        events.write(events.pull_request("opened", PR, head1, base), payloads / "pr1.json"),
    )
    record = json.loads((act.artifacts / "ml-ci-results" / "ml-ci-record.json").read_text())
    assert record["repro"]["verdict"] == "verified", tail(check)
    assert record["repo"]["head_sha"] == head1 and record["repo"]["pull_request"] == PR
    assert record["compare"]["verdict"] in ("pass", "fail", "inconclusive")
    assert (act.artifacts / "ml-ci-results" / "ml-ci-report.md").is_file()
    gate_failed = record["compare"]["verdict"] != "pass"
    assert (check.returncode != 0) == gate_failed, tail(check)
    if gate_failed:  # the gate failure, and nothing else, fails the job
        assert "Failure - Main Fail when a gate failed" in check.stdout, tail(check)
        assert check.stdout.count("❌") == 1, tail(check)
    assert gh.comments(REPO, PR) == [], "the read-only check must not comment"

    # --- 2. the fork-safe commenter posts one comment and the status
    comment = act.run(
        "workflow_run",
        "ml-ci-comment.yml",
        events.write(events.workflow_run(1001, PR, head1, "failure"), payloads / "wr1.json"),
    )
    assert comment.returncode == 0, tail(comment)
    comments = gh.comments(REPO, PR)
    assert len(comments) == 1
    first_body = comments[0]["body"]
    assert _statuses(gh, head1, "ml-ci/gates"), gh.statuses(REPO, head1)

    # --- 3. second push: the team accepts inconclusive gates; check + commenter again
    config = yaml.safe_load((repo / "ml-ci.yaml").read_text(encoding="utf-8"))
    config.setdefault("compare", {})["inconclusive"] = "pass"
    (repo / "ml-ci.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    head2 = commit_all(repo, "Accept inconclusive gates")
    gh.add_pull(REPO, PR, head2, "bob", head_ref="candidate", base_sha=base,
                commits=[head1, head2])  # fmt: skip
    check = act.run(
        "pull_request",
        "ml-ci-pr.yml",
        events.write(events.pull_request("synchronize", PR, head2, base), payloads / "pr2.json"),
    )
    assert check.returncode == 0, tail(check)
    comment = act.run(
        "workflow_run",
        "ml-ci-comment.yml",
        events.write(events.workflow_run(1002, PR, head2, "success"), payloads / "wr2.json"),
    )
    assert comment.returncode == 0, tail(comment)
    comments = gh.comments(REPO, PR)
    assert len(comments) == 1, "the sticky comment must be updated, not duplicated"
    assert comments[0]["body"] != first_body
    assert head2[:7] in comments[0]["body"] or head2 in comments[0]["body"]
    # the status is on the new head (its state is publish's call on an inconclusive verdict)
    assert _statuses(gh, head2, "ml-ci/gates"), gh.statuses(REPO, head2)

    # --- 4. an approving review -> ml-ci/governance success
    gh.add_review(REPO, PR, "alice", "APPROVED", commit_id=head2)
    approvals = act.run(
        "pull_request_review",
        "ml-ci-approvals.yml",
        events.write(events.review(PR, head2, base, "alice"), payloads / "review.json"),
        env={"ML_CI_RECORD_RUN_ID": "1002"},  # the fake has no workflow-runs listing
    )
    assert approvals.returncode == 0, tail(approvals)
    assert _statuses(gh, head2, "ml-ci/governance")[0] == "success"

    # --- 5. merge and push to main -> the release workflow tags the model
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "candidate", "-m", f"Merge pull request #{PR}")
    merge = _git(repo, "rev-parse", "HEAD")
    _git(repo, "push", "-q", "origin", "main")
    gh.add_pull(REPO, PR, head2, "bob", head_ref="candidate", base_sha=base,
                merged=True, commits=[head1, head2, merge])  # fmt: skip
    release = act.run(
        "push",
        "ml-ci-release.yml",
        events.write(events.push(merge, base), payloads / "push.json"),
        env={"ML_CI_RECORD_RUN_ID": "1002"},
    )
    assert release.returncode == 0, tail(release)
    tags = _git(example_repo.git_remote, "tag", "--list")
    assert any(tag.startswith("breast-cancer@v") for tag in tags.split()), tags
    assert gh.releases(REPO), "the GitHub release was not created"

    # --- 6. by hand: promote the released version to production (workflow_dispatch)
    inputs = {"stage": "production", "version": "", "rollback": False}
    promote = act.run(
        "workflow_dispatch",
        "ml-ci-promote.yml",
        events.write(
            events.workflow_dispatch("ml-ci-promote.yml", inputs), payloads / "promote.json"
        ),
    )
    assert promote.returncode == 0, tail(promote)
    tags = _git(example_repo.git_remote, "tag", "--list").split()
    # GTO numbers assignments per model across stages: canary was #1
    assert "breast-cancer#production#2" in tags, tags
    production = _git(example_repo.git_remote, "rev-list", "-n", "1", "breast-cancer#production#2")
    assert production == _git(
        example_repo.git_remote, "rev-list", "-n", "1", "breast-cancer@v0.1.0"
    )
