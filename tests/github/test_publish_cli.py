"""``ml-ci publish`` end to end against the fake GitHub, as a workflow step would run it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from ml_ci.cli import main
from ml_ci.github.publish import ACTIONS_BOT, marker
from ml_ci.record import save_record
from tests.fakegithub.server import FakeGitHub
from tests.report.records import demo_record

TOKEN = "ghs_publishTOKEN123456789012345"
REPO = "acme/models"
HEAD = "a" * 40


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_token(TOKEN, ACTIONS_BOT, app=True)
    fake_github.add_pull(REPO, 7, HEAD, "bob")
    return fake_github


@pytest.fixture
def workflow(gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of a pull_request workflow step; returns the work folder."""
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": HEAD, "repo": {"full_name": REPO}},
            "base": {"repo": {"full_name": REPO}},
        },
    }
    (tmp_path / "event.json").write_text(json.dumps(event))
    save_record(tmp_path / "ml-ci-record.json", demo_record())
    values = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SHA": "f" * 40,
        "GITHUB_RUN_ID": "99",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read_outputs(path: Path) -> dict[str, str]:
    text = path.read_text()
    found = re.findall(r"^([\w-]+)<<(ghadelimiter_[\w-]+)\n(.*?)\n\2$", text, re.M | re.S)
    return {name: value for name, _, value in found}


def test_publish_in_a_pull_request_workflow(
    gh: FakeGitHub, workflow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish"]) == 0
    out, err = capsys.readouterr()
    comments = gh.comments(REPO, 7)
    assert len(comments) == 1 and comments[0]["body"].startswith(marker("default"))
    assert "**❌ FAIL**" in comments[0]["body"]
    statuses = gh.statuses(REPO, HEAD)  # the head, not GITHUB_SHA's merge commit
    assert [(s["context"], s["state"]) for s in statuses] == [("ml-ci/gates", "failure")]
    assert len(statuses[0]["description"]) <= 140
    assert gh.statuses(REPO, "f" * 40) == []
    assert "FAIL" in (workflow / "summary.md").read_text()
    outputs = read_outputs(workflow / "output.txt")
    assert outputs["verdict"] == "fail"
    assert outputs["comment-url"] == comments[0]["html_url"]
    assert Path(outputs["report-path"]).name == "ml-ci-report.html"
    assert (workflow / "ml-ci-report.html").read_text().startswith("<!DOCTYPE html>")
    assert "::error title=ml-ci gate roc_auc::roc_auc: fail" in out
    # never printed: the runner masks the secrets it was given
    assert TOKEN not in out + err and "::add-mask::" not in out + err

    assert main(["publish", "--json"]) == 0  # a rerun of the step
    again = json.loads(capsys.readouterr().out)
    assert again["comment_action"] == "unchanged" and len(gh.comments(REPO, 7)) == 1


def test_token_never_printed_outside_actions(
    gh: FakeGitHub,
    workflow: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS")
    gh.faults(script=["lost"], method="POST")
    assert main(["publish", "--repo", REPO, "--pr", "7", "--sha", HEAD]) == 0
    out, err = capsys.readouterr()
    assert TOKEN not in out + err and "::" not in out
    assert len(gh.comments(REPO, 7)) == 1


def test_fork_token_fails_with_the_fix_and_keeps_local_outputs(
    gh: FakeGitHub,
    workflow: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh.add_token("ghs_fork", ACTIONS_BOT, app=True, read_only=True)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_fork")
    assert main(["publish"]) == 2
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("ml-ci:")]
    assert len(lines) == 1 and "workflow_run" in lines[0] and "Traceback" not in err
    assert "ghs_fork" not in err
    assert read_outputs(workflow / "output.txt")["verdict"] == "fail"
    assert (workflow / "summary.md").is_file() and (workflow / "ml-ci-report.html").is_file()
    assert gh.comments(REPO, 7) == []


def test_dry_run_sends_nothing(
    gh: FakeGitHub, workflow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["dry_run"] and plan["pull_request"] == 7 and plan["sha"] == HEAD
    assert plan["comment"].startswith(marker("default"))
    assert plan["status"]["state"] == "failure"
    assert gh.requests == []


def test_huge_report_is_accepted_by_github(
    gh: FakeGitHub, workflow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_record(workflow / "ml-ci-record.json", demo_record(slices=3000, columns=2000))
    assert main(["publish"]) == 0  # the fake answers 422 above 65,536 characters, like GitHub
    body = gh.comments(REPO, 7)[0]["body"]
    assert len(body) <= 65_536 and "more rows not shown" in body
    assert all(r.status != 422 for r in gh.requests)


def test_annotations_are_capped_at_ten_per_level(
    gh: FakeGitHub, workflow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = demo_record(slices=40)
    for gate in record.compare.gates:  # type: ignore[union-attr]
        if gate.slice:
            gate.verdict = "fail"
    save_record(workflow / "ml-ci-record.json", record)
    main(["publish"])
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(errors) == 10 and "more; see the report" in errors[-1]


def test_report_key_from_config(
    gh: FakeGitHub, workflow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workflow / "ml-ci.yaml").write_text(
        "report:\n  key: nightly\n  status_context: ml-ci/nightly\n"
    )
    assert main(["publish"]) == 0
    assert gh.comments(REPO, 7)[0]["body"].startswith(marker("nightly"))
    assert gh.statuses(REPO, HEAD)[0]["context"] == "ml-ci/nightly"


def test_workflow_run_trusts_the_event_sha_over_the_record(
    gh: FakeGitHub,
    workflow: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fork-safe second workflow: PR number from the record, checked against the event."""
    gh.add_pull(REPO, 8, "e" * 40, "mallory")
    event = {"workflow_run": {"head_sha": HEAD, "pull_requests": []}}
    (workflow / "event.json").write_text(json.dumps(event))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_run")
    assert main(["publish"]) == 0  # the record says PR 7, whose head is the run's head
    assert len(gh.comments(REPO, 7)) == 1

    record = demo_record()
    record.repo.pull_request = 8  # a forged record pointing at someone else's PR
    save_record(workflow / "ml-ci-record.json", record)
    assert main(["publish"]) == 2
    assert "refusing to publish" in capsys.readouterr().err
    assert gh.comments(REPO, 8) == []


@pytest.mark.parametrize(("head_repo", "fork"), [("mallory/models", True), (REPO, False)])
def test_a_forks_result_is_marked_unverified(
    gh: FakeGitHub,
    workflow: Path,
    monkeypatch: pytest.MonkeyPatch,
    head_repo: str,
    fork: bool,
) -> None:
    """The fork-safe commenter says a fork's result is its own run's word, not verified."""
    event = {
        "workflow_run": {
            "head_sha": HEAD,
            "pull_requests": [],
            "head_repository": {"full_name": head_repo},
            "repository": {"full_name": REPO},
        }
    }
    (workflow / "event.json").write_text(json.dumps(event))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_run")
    assert main(["publish"]) == 0
    body = gh.comments(REPO, 7)[0]["body"]
    tree = MarkdownIt("gfm-like").parse(body)
    quoted = [t for t in tree if t.type == "blockquote_open"]
    assert bool(quoted) is fork  # the notice is a quote block at the top, before the title
    if fork:
        first = body.split("\n", 1)[1].split("\n\n", 1)[0]
        assert "Not verified" in first and "recomputes" in first


def test_push_event_sets_the_status_without_a_comment(
    gh: FakeGitHub,
    workflow: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (workflow / "event.json").write_text(json.dumps({"after": "f" * 40}))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    record = demo_record()
    record.repo.pull_request = None
    record.repo.head_sha = None
    save_record(workflow / "ml-ci-record.json", record)
    assert main(["publish", "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)  # under --json, workflow commands go to stderr
    assert TOKEN not in out + err
    assert result["comment_action"] is None and result["pull_request"] is None
    assert gh.comments(REPO, 7) == []
    assert gh.statuses(REPO, "f" * 40)[0]["state"] == "failure"
