"""End to end: the workflow templates `ml-ci init` writes, run by a real Actions runner (act) with
GitHub's checkout semantics (tests/e2e/runner.py).

One test drives the whole life of a pull request on a copy of the example project as a new
user has it (``ml-ci init`` on main, committed and pushed, nothing edited by hand); the pull
request is the example's ``candidate`` branch, as pushed:

1. pull_request opened -> the check runs on the TEST-MERGE commit (refs/pull/7/merge), as on
   GitHub: the record names the pull request's head as ``repo.head_sha`` and the merge commit
   as ``repo.evaluated_sha``; the check itself never comments;
2. workflow_run -> the fork-safe commenter posts exactly one comment and the ml-ci/gates status
   on the HEAD commit (never on the merge commit, which no branch protection looks at);
3. a second push (synchronize) -> check + commenter again: the SAME comment is updated;
4. an approving review -> the approvals workflow sets ml-ci/governance to success on the head;
5. the merge button, push to main -> the release workflow tags the merge commit, pushes the
   tags to the remote and creates the GitHub release;
6. by hand (workflow_dispatch) -> the promote workflow assigns that version to production.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ml_ci.example import ExampleRepo
from tests.e2e import events
from tests.e2e.runner import act_for_example, tail
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


def _record(artifacts: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (artifacts / "ml-ci-results" / "ml-ci-record.json").read_text(encoding="utf-8")
    )
    return data


@pytest.mark.slow
def test_pull_request_lifecycle_under_act(
    adopted: ExampleRepo, fake_github: FakeGitHub, ml_ci_snapshot: Path, tmp_path: Path
) -> None:
    repo, gh = adopted.root, fake_github
    act = act_for_example(adopted, gh, tmp_path, REPO, ml_ci=ml_ci_snapshot)
    base = act.origin.tip("main")  # the adoption commit
    head1 = adopted.candidate_sha
    assert act.origin.tip("candidate") == head1  # the pull request's branch, as pushed
    gh.add_collaborator(REPO, "alice", "maintain")
    gh.add_pull(REPO, PR, head1, "bob", head_ref="candidate", base_sha=base)
    payloads = tmp_path / "events"
    payloads.mkdir()

    # --- 1. the pull-request check (read-only), on GitHub's test-merge commit
    check = act.run(
        "pull_request",
        "ml-ci-pr.yml",
        events.write(events.pull_request("opened", PR, head1, base), payloads / "pr1.json"),
    )
    merge1 = act.origin.rev(f"refs/pull/{PR}/merge")
    assert act.origin.parents(merge1) == [base, head1]  # what GitHub's test merge is
    assert act.checked_out[-1] == ("pull_request", merge1)
    assert f"checked out {merge1}" in check.stdout, tail(check)  # the workflow's checkout
    record = _record(act.artifacts)
    assert record["repro"]["verdict"] == "verified", tail(check)
    facts = record["repo"]
    assert facts["pull_request"] == PR
    assert facts["head_sha"] == head1, "repo.head_sha must be the pull request's head"
    assert facts.get("evaluated_sha") == merge1, "repo.evaluated_sha: the test merge"
    verdict = record["compare"]["verdict"]
    assert verdict in ("pass", "fail", "inconclusive")
    assert (act.artifacts / "ml-ci-results" / "ml-ci-report.md").is_file()
    gate_failed = verdict != "pass"
    assert (check.returncode != 0) == gate_failed, tail(check)
    if gate_failed:  # the gate failure, and nothing else, fails the job
        assert "Failure - Main Fail when a gate failed" in check.stdout, tail(check)
        assert check.stdout.count("❌") == 1, tail(check)
    assert gh.comments(REPO, PR) == [], "the read-only check must not comment"

    # --- 2. the fork-safe commenter posts one comment and the status, on the head
    comment = act.run(
        "workflow_run",
        "ml-ci-comment.yml",
        events.write(events.workflow_run(1001, PR, head1, "failure"), payloads / "wr1.json"),
    )
    assert comment.returncode == 0, tail(comment)
    assert act.checked_out[-1] == ("workflow_run", base)  # runs on the default branch
    comments = gh.comments(REPO, PR)
    assert len(comments) == 1
    first_body = comments[0]["body"]
    assert _statuses(gh, head1, "ml-ci/gates"), gh.statuses(REPO, head1)
    assert gh.statuses(REPO, merge1) == [], "statuses belong on the head, not the test merge"

    # --- 3. a second push (the model card): check + commenter again, the comment is updated
    (repo / "MODEL_CARD.md").write_text("# breast-cancer\nC=0.5 candidate.\n", encoding="utf-8")
    head2 = commit_all(repo, "Describe the candidate")
    act.push("candidate")
    gh.add_pull(REPO, PR, head2, "bob", head_ref="candidate", base_sha=base,
                commits=[head1, head2])  # fmt: skip
    check = act.run(
        "pull_request",
        "ml-ci-pr.yml",
        events.write(events.pull_request("synchronize", PR, head2, base), payloads / "pr2.json"),
    )
    merge2 = act.origin.rev(f"refs/pull/{PR}/merge")
    assert merge2 != merge1 and act.origin.parents(merge2) == [base, head2]
    record = _record(act.artifacts)
    assert record["repo"]["head_sha"] == head2
    assert record["repo"].get("evaluated_sha") == merge2
    assert (check.returncode != 0) == (record["compare"]["verdict"] != "pass"), tail(check)
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
    assert _statuses(gh, head2, "ml-ci/gates"), gh.statuses(REPO, head2)
    assert gh.statuses(REPO, merge2) == []

    # --- 4. an approving review -> ml-ci/governance success on the head
    gh.add_review(REPO, PR, "alice", "APPROVED", commit_id=head2)
    approvals = act.run(
        "pull_request_review",
        "ml-ci-approvals.yml",
        events.write(events.review(PR, head2, base, "alice"), payloads / "review.json"),
        env={"ML_CI_RECORD_RUN_ID": "1002"},  # the check's run (the fake lists no runs)
    )
    assert approvals.returncode == 0, tail(approvals)
    assert act.checked_out[-1] == ("pull_request_review", merge2)
    assert _statuses(gh, head2, "ml-ci/governance")[0] == "success"

    # --- 5. the merge button, push to main -> the release tags the merge commit
    merge = act.merge_pull(PR)
    assert act.origin.parents(merge) == [base, head2]
    release = act.run(
        "push",
        "ml-ci-release.yml",
        events.write(events.push(merge, base), payloads / "push.json"),
        env={"ML_CI_RECORD_RUN_ID": "1002"},
    )
    assert release.returncode == 0, tail(release)
    assert act.checked_out[-1] == ("push", merge)
    tags = _git(adopted.git_remote, "tag", "--list").split()
    assert "breast-cancer@v0.1.0" in tags and "breast-cancer#canary#1" in tags, tags
    assert act.origin.rev("breast-cancer@v0.1.0^{commit}") == merge
    (gh_release,) = gh.releases(REPO)
    assert gh_release["tag_name"] == "breast-cancer@v0.1.0", gh_release
    assert {asset["name"] for asset in gh_release["assets"]} >= {"ml-ci-record.json"}

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
    tags = _git(adopted.git_remote, "tag", "--list").split()
    # GTO numbers assignments per model across stages: canary was #1
    assert "breast-cancer#production#2" in tags, tags
    assert act.origin.rev("breast-cancer#production#2^{commit}") == merge
