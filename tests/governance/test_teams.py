"""Team approvers against the fake GitHub: write permission for them too, direct approvers
first, and a one-line explanation when the token cannot read team memberships (the default
GITHUB_TOKEN gets 403 there, as on GitHub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.cli import main
from tests.fakegithub.server import FakeGitHub
from tests.governance.helpers import HEAD, REPO, TOKEN, approve_status

CONFIG = "governance:\n  approvers: [alice]\n  teams: [acme/ml-leads]\n"


@pytest.fixture
def teams(gh: FakeGitHub, tmp_path, monkeypatch) -> FakeGitHub:  # type: ignore[no-untyped-def]
    (tmp_path / "ml-ci.yaml").write_text(CONFIG, encoding="utf-8")
    gh.add_collaborator(REPO, "dave", "write")
    gh.add_collaborator(REPO, "tess", "read")
    gh.add_team_member("acme", "ml-leads", "dave")
    gh.add_team_member("acme", "ml-leads", "tess")
    return gh


def membership_calls(gh: FakeGitHub) -> list[str]:
    return [r.path for r in gh.requests if "/teams/" in r.path]


def test_a_team_member_with_read_permission_cannot_approve(
    teams: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    teams.add_token(TOKEN, "github-actions[bot]", app=True, org_members=True)
    teams.add_review(REPO, 7, "tess", "APPROVED")
    code, result, err = approve_status(capsys, "--pr", "7")
    assert code == 0, err
    (decision,) = result["governance"]["decisions"]
    assert not result["governance"]["satisfied"] and not decision["counted"]
    assert "read permission" in decision["reason"] and "needs write" in decision["reason"]
    teams.add_review(REPO, 7, "dave", "APPROVED")  # write permission and in the team
    _, result, _ = approve_status(capsys, "--pr", "7")
    assert result["governance"]["satisfied"] and result["governance"]["approved_by"] == ["dave"]


def test_a_listed_approver_needs_no_team_lookup(
    teams: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """With GITHUB_TOKEN (403 on team memberships) a direct approver's approval still counts."""
    teams.add_review(REPO, 7, "alice", "APPROVED")
    teams.add_review(REPO, 7, "dave", "APPROVED")  # a team member: the verdict needs no lookup
    code, result, err = approve_status(capsys, "--pr", "7", "--strict")
    assert code == 0, err
    assert result["governance"]["satisfied"] and "alice" in result["governance"]["approved_by"]
    assert membership_calls(teams) == []


@pytest.mark.parametrize("voice", ["APPROVED", "CHANGES_REQUESTED"])
def test_an_unreadable_team_is_explained_in_one_line(
    teams: FakeGitHub, capsys: pytest.CaptureFixture[str], voice: str
) -> None:
    """Only a team could decide (dave's approval is the only one, or his rejection would
    override alice's approval): the 403 is reported with what the token lacks."""
    if voice == "CHANGES_REQUESTED":
        teams.add_review(REPO, 7, "alice", "APPROVED")
    teams.add_review(REPO, 7, "dave", voice)
    capsys.readouterr()
    code = main(["approve-status", "--repo", REPO, "--pr", "7", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    (line,) = [line for line in err.splitlines() if line.startswith("ml-ci:")]
    assert "acme/ml-leads" in line and "403" in line
    assert "read:org" in line and '"Members: read"' in line
    assert "fork" not in line  # not the fork-token advice of other 403s
    assert teams.statuses(REPO, HEAD) == []


def test_a_secret_team_answers_404_and_is_explained(
    teams: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub answers 404 for a team the token cannot see; 'not a member' is also a 404, so
    the team itself is checked before concluding either."""
    teams.add_token(TOKEN, "github-actions[bot]", app=True, org_members=True)
    Path("ml-ci.yaml").write_text(CONFIG.replace("acme/ml-leads", "acme/hidden"), "utf-8")
    teams.add_review(REPO, 7, "dave", "APPROVED")
    capsys.readouterr()
    code = main(["approve-status", "--repo", REPO, "--pr", "7"])
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("ml-ci:")]
    assert code == 2 and "acme/hidden (404)" in line and "Members: read" in line
