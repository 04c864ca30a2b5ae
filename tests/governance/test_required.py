"""Whether approval is required, from the pull request's record (``--record``): the record
may only ADD a requirement (fail closed). Missing, unverifiable or significant drift ->
required; a record can never waive one the config sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.record import DriftSection, EvaluationRecord, RepoInfo, save_record
from tests.fakegithub.server import FakeGitHub
from tests.governance.helpers import HEAD, OLD, REPO, approve_status


def config(tmp_path: Path, require: str) -> None:
    (tmp_path / "ml-ci.yaml").write_text(
        f"governance:\n  approvers: [alice]\n  require: {require}\n", encoding="utf-8"
    )


def record(tmp_path: Path, drift: str | None, head: str | None = HEAD) -> Path:
    path = tmp_path / "pr-record.json"
    section = DriftSection(share_drifted=0.5, verdict=drift) if drift else None  # type: ignore[arg-type]
    save_record(path, EvaluationRecord(repo=RepoInfo(head_sha=head, pull_request=7), drift=section))
    return path


def governance(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    code, result, err = approve_status(capsys, "--pr", "7", *args)
    assert code == 0, err  # an unusable record is not an error: it makes approval required
    return result


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda tmp: None, "no record"),
        (lambda tmp: tmp / "absent.json", "no such record"),
        (lambda tmp: record(tmp, "pass", head=OLD), "not the head"),
        (lambda tmp: record(tmp, "pass", head=None), "names no head"),
        (lambda tmp: record(tmp, "significant"), "drift was significant"),
    ],
    ids=["not-given", "missing", "other-head", "no-head", "significant-drift"],
)
def test_flagged_requires_approval_unless_the_record_shows_no_flag(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], make, why: str
) -> None:  # type: ignore[no-untyped-def]
    config(tmp_path, "flagged")
    path = make(tmp_path)
    result = governance(capsys, *(["--record", str(path)] if path else []))
    assert result["governance"]["required"] is True
    assert result["governance"]["satisfied"] is False
    assert why in result["required_reason"]
    assert [s["state"] for s in gh.statuses(REPO, HEAD)] == ["pending"]
    gh.add_comment(REPO, 7, f"/ml-ci approve {HEAD}", "alice")
    result = governance(capsys, *(["--record", str(path)] if path else []))
    assert result["governance"]["satisfied"] is True
    assert gh.statuses(REPO, HEAD)[0]["state"] == "success"


def test_a_schema_invalid_record_requires_approval(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config(tmp_path, "flagged")
    forged = tmp_path / "pr-record.json"
    forged.write_text('{"schema_version": 1, "drift": "none at all"}', encoding="utf-8")
    result = governance(capsys, "--record", str(forged))
    assert result["governance"]["required"] is True
    assert "unverifiable" in result["required_reason"]


def test_flagged_without_a_flag_needs_no_approval(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config(tmp_path, "flagged")
    result = governance(capsys, "--record", str(record(tmp_path, "pass")))
    assert result["governance"]["required"] is False and result["governance"]["satisfied"]


def test_a_record_never_waives_a_requirement(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config(tmp_path, "always")
    result = governance(capsys, "--record", str(record(tmp_path, "pass")))
    assert result["governance"]["required"] is True and not result["governance"]["satisfied"]
    assert "always" in result["required_reason"]


def test_no_check_run_is_looked_up_for_a_plain_issue_comment(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    """The approvals workflow's lookup: an issue (not a pull request) has no record to find;
    the empty run id skips the download, and approve-status skips the event."""
    from ml_ci.pack.action import find_record_run
    from tests.governance.helpers import TOKEN

    event = tmp_path / "event.json"
    event.write_text('{"issue": {"number": 3, "title": "a question"}}', encoding="utf-8")
    environ = {
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_NAME": "issue_comment",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
    }
    result = find_record_run({"pull-request": "event"}, environ)
    assert result.outputs["run-id"] == "" and gh.requests == []


@pytest.mark.parametrize("changed", ["ml-ci.yaml", "governance/catalog.yaml"])
def test_a_pull_request_changing_the_rules_or_the_catalog_needs_approval(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], changed: str
) -> None:
    (tmp_path / "ml-ci.yaml").write_text(
        "governance:\n  approvers: [alice]\n  require: flagged\n"
        "  catalog: governance/catalog.yaml\n",
        encoding="utf-8",
    )
    clean = record(tmp_path, "pass")
    assert governance(capsys, "--record", str(clean))["governance"]["required"] is False
    gh.add_pull(REPO, 7, head_sha=HEAD, user="bob", files=["src/train.py", changed])
    result = governance(capsys, "--record", str(clean))
    assert result["governance"]["required"] is True
    assert f"changes {changed}" in result["required_reason"]
