"""The approvals workflow under act knows whether approval is required: with
``governance.require: flagged`` it downloads the pull request's record (the check's artifact)
and, the record saying drift was significant, keeps ``ml-ci/governance`` pending until a valid
approval, then success. A short-SHA approval does not count (it could be replayed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ml_ci.example import ExampleRepo
from ml_ci.record import DriftSection, EvaluationRecord, RepoInfo, save_record
from tests.e2e import events
from tests.e2e.runner import act_for_example, ml_ci_init, tail
from tests.fakegithub.server import FakeGitHub
from tests.pack.snapshot import commit_all

REPO = events.REPO
PR = 9
RUN_ID = "2001"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _governance(gh: FakeGitHub, sha: str) -> list[str]:
    return [s["state"] for s in gh.statuses(REPO, sha) if s["context"] == "ml-ci/governance"]


@pytest.mark.slow
def test_significant_drift_keeps_governance_pending_until_approved(
    example_repo: ExampleRepo, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    repo = example_repo.root
    # the approvals workflow reads ml-ci.yaml from the DEFAULT branch: adopt ml-ci on main
    _git(repo, "checkout", "-q", "main")
    ml_ci_init(repo)
    config = yaml.safe_load((repo / "ml-ci.yaml").read_text(encoding="utf-8"))
    config["governance"] = {"approvers": ["alice"], "require": "flagged"}
    (repo / "ml-ci.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    base = commit_all(repo, "Add ml-ci, approvals only when flagged")
    _git(repo, "checkout", "-q", "candidate")
    _git(repo, "merge", "-q", "--no-edit", "main")
    head = _git(repo, "rev-parse", "HEAD")
    gh = fake_github
    act = act_for_example(example_repo, gh, tmp_path, REPO)
    act.push("main", "candidate")  # GitHub only knows what was pushed
    gh.add_collaborator(REPO, "alice", "maintain")
    gh.add_pull(REPO, PR, head, "bob", head_ref="candidate", base_sha=base)
    # what the pull request's check uploaded: its record says drift was significant
    results = act.artifacts / "ml-ci-results"
    results.mkdir(parents=True)
    save_record(
        results / "ml-ci-record.json",
        EvaluationRecord(
            model="breast-cancer",
            repo=RepoInfo(head_sha=head, pull_request=PR),
            drift=DriftSection(share_drifted=0.6, verdict="significant"),
        ),
    )
    payload = events.write(events.review(PR, head, base, "alice"), tmp_path / "review.json")

    def approvals() -> str:
        done = act.run(
            "pull_request_review",
            "ml-ci-approvals.yml",
            payload,
            env={"ML_CI_RECORD_RUN_ID": RUN_ID},
        )
        assert done.returncode == 0, tail(done)
        return done.stdout + done.stderr

    # a review that only comments, and an approval naming a 7-digit prefix: neither counts
    gh.add_review(REPO, PR, "alice", "COMMENTED", commit_id=head)
    gh.add_comment(REPO, PR, f"/ml-ci approve {head[:7]}", "alice")
    log = approvals()
    assert _governance(gh, head) == ["pending"], log[-6000:]
    assert "drift was significant" in log
    assert (act.artifacts / "ml-ci-results.run-id").read_text().strip() == RUN_ID
    (sticky,) = [c for c in gh.comments(REPO, PR) if c["body"].startswith("<!-- ml-ci:")]
    assert f"/ml-ci approve {head}" in sticky["body"]  # the exact line to copy

    gh.add_comment(REPO, PR, f"/ml-ci approve {head}", "alice")
    log = approvals()
    assert _governance(gh, head)[0] == "success", log[-6000:]
    record = json.loads((results / "ml-ci-record.json").read_text())
    assert record["drift"]["verdict"] == "significant"  # read as data, never rewritten upstream
