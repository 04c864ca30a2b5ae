"""``ml-ci approve-status`` against the fake GitHub API (validated against GitHub's OpenAPI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.cli import main
from ml_ci.record import EvaluationRecord, RepoInfo, load_record, save_record
from tests.fakegithub.server import FakeGitHub
from tests.governance.helpers import HEAD, OLD, REPO, TOKEN, approve_status


def test_an_approvers_review_sets_success_and_the_comment(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.add_review(REPO, 7, "alice", "APPROVED")
    record = tmp_path / "record.json"
    save_record(record, EvaluationRecord(repo=RepoInfo(head_sha=HEAD, pull_request=7)))
    code, result, err = approve_status(capsys, "--pr", "7", "--record", str(record))
    assert code == 0, err
    assert result["governance"]["satisfied"] is True and result["written"] is True
    statuses = gh.statuses(REPO, HEAD)
    assert statuses[0]["context"] == "ml-ci/governance" and statuses[0]["state"] == "success"
    comments = gh.comments(REPO, 7)
    assert len(comments) == 1 and "ml-ci governance: ✅ approved" in comments[0]["body"]
    saved = load_record(record).governance
    assert saved is not None and saved.satisfied and saved.head_sha == HEAD
    assert saved.approve_command == f"/ml-ci approve {HEAD}"  # the exact line to copy
    decision = saved.decisions[0]
    assert (decision.actor, decision.via, decision.sha, decision.counted) == (
        "alice",
        "review",
        HEAD,
        True,
    )
    # a second run updates the same comment instead of adding one
    assert approve_status(capsys, "--pr", "7")[0] == 0
    assert len(gh.comments(REPO, 7)) == 1


def test_ignored_approvals_are_reported_with_the_reason(
    gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.add_review(REPO, 7, "mallory", "APPROVED")  # admin, but not an approver
    gh.add_review(REPO, 7, "alice", "APPROVED", commit_id=OLD)  # for an older push
    gh.add_comment(REPO, 7, f"/ml-ci approve {HEAD}", "bob")  # the author
    gh.add_comment(REPO, 7, f"/ml-ci approve {HEAD}", "rita")  # read permission only
    edited = gh.add_comment(REPO, 7, "LGTM", "alice")
    gh.repos[REPO].comments[edited["id"]].update(  # edited into an approval later
        body=f"/ml-ci approve {HEAD}", updated_at="2030-01-01T00:00:00Z"
    )
    code, result, _ = approve_status(capsys, "--pr", "7")
    assert code == 0
    decisions = {d["actor"] + "/" + d["via"]: d for d in result["governance"]["decisions"]}
    assert not any(d["counted"] for d in decisions.values())
    assert "may not approve" in decisions["mallory/review"]["reason"]
    assert "a push voids approvals" in decisions["alice/review"]["reason"]
    assert "author cannot approve" in decisions["bob/comment"]["reason"]
    assert "read permission" in decisions["rita/comment"]["reason"]
    assert "edited" in decisions["alice/comment"]["reason"]
    assert gh.statuses(REPO, HEAD)[0]["state"] == "pending"
    body = gh.comments(REPO, 7)[-1]["body"]
    assert "waiting for approval" in body and "no: the comment was edited" in body
    assert approve_status(capsys, "--pr", "7", "--strict")[0] == 1


def test_a_rejection_fails_the_status(gh: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    gh.add_review(REPO, 7, "alice", "APPROVED")
    gh.add_comment(REPO, 7, f"/ml-ci reject {HEAD} leaks the label", "rita")  # ignored
    gh.add_collaborator(REPO, "rita", "maintain")
    gh.add_comment(REPO, 7, f"/ml-ci reject {HEAD} drift in income", "rita")
    _code, result, _ = approve_status(capsys, "--pr", "7")
    assert result["governance"]["rejected_by"] == ["rita"]
    assert gh.statuses(REPO, HEAD)[0]["state"] == "failure"
    assert "drift in income" in gh.comments(REPO, 7)[-1]["body"]


def test_a_fork_event_never_writes(
    gh: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gh.repos[REPO].pulls[7]["head"]["repo"]["full_name"] = "mallory/models"
    gh.add_review(REPO, 7, "alice", "APPROVED")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "created",
                "issue": {"number": 7, "pull_request": {"url": "x"}},
                "comment": {"body": "/ml-ci approve"},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GITHUB_EVENT_NAME", "issue_comment")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    capsys.readouterr()
    code = main(["approve-status", "--json"])  # repository and number from the event
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["fork"] is True and result["written"] is False
    assert result["governance"]["satisfied"] is True  # evaluated, but...
    assert gh.statuses(REPO, HEAD) == [] and gh.comments(REPO, 7) == []  # ...nothing written
    assert all(r.method == "GET" for r in gh.requests)


def test_teams_are_checked_with_the_membership_api(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ml-ci.yaml").write_text(
        "governance:\n  teams: [acme/ml-leads]\n  required_approvals: 2\n", encoding="utf-8"
    )
    gh.add_token(TOKEN, "github-actions[bot]", app=True, org_members=True)  # "Members: read"
    gh.add_collaborator(REPO, "dave", "write")
    gh.add_collaborator(REPO, "erin", "maintain")
    gh.add_team_member("acme", "ml-leads", "dave")
    gh.add_team_member("acme", "ml-leads", "erin")
    gh.add_review(REPO, 7, "dave", "APPROVED")
    gh.add_review(REPO, 7, "mallory", "APPROVED")  # admin, not in the team
    _, result, _ = approve_status(capsys, "--pr", "7")
    assert result["governance"]["approved_by"] == ["dave"] and not result["governance"]["satisfied"]
    gh.add_comment(REPO, 7, f"/ml-ci approve {HEAD}", "erin")
    _code, result, _ = approve_status(capsys, "--pr", "7")
    assert result["governance"]["satisfied"] and result["governance"]["approved_by"] == [
        "dave",
        "erin",
    ]


def test_with_the_heads_record_the_whole_report_is_re_rendered(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml_ci.record import CompareSection

    gh.add_review(REPO, 7, "alice", "APPROVED")
    record = tmp_path / "record.json"
    save_record(
        record,
        EvaluationRecord(
            repo=RepoInfo(head_sha=HEAD, pull_request=7), compare=CompareSection(verdict="pass")
        ),
    )
    assert approve_status(capsys, "--pr", "7", "--record", str(record))[0] == 0
    (comment,) = gh.comments(REPO, 7)
    assert comment["body"].startswith("<!-- ml-ci:report:default -->")  # the report's own key
    assert "alice" in comment["body"]


def test_the_governance_comment_shows_the_full_line_to_copy(
    gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert approve_status(capsys, "--pr", "7")[0] == 0
    (comment,) = gh.comments(REPO, 7)
    assert f"`/ml-ci approve {HEAD}`" in comment["body"]
