"""``ml-ci watch``: the pure decision, and its GitHub calls against the fake GitHub API."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.drift.watch import (
    MARKER,
    WatchSettings,
    decide,
    find_issue,
    issue_body,
    run_watch,
)
from ml_ci.errors import InputError
from ml_ci.github.client import GitHubClient
from ml_ci.record import EvaluationRecord, save_record
from ml_ci.record.drift import ColumnDrift, DriftSection, QualityFinding
from tests.drift.helpers import run_cli
from tests.fakegithub.server import FakeGitHub

REPO = "acme/models"
TOKEN = "ghs_watch"


def section(verdict: str) -> DriftSection:
    level = {"pass": "pass", "retrain": "retrain", "significant": "significant"}[verdict]
    return DriftSection(
        columns=[
            ColumnDrift(
                column="income",
                method="wasserstein",
                value={"pass": 0.02, "retrain": 0.15, "significant": 0.6}[verdict],
                threshold=0.1,
                significant_threshold=0.25,
                drifted=verdict != "pass",
                level=level,  # type: ignore[arg-type]
                p_value=1e-9,
            ),
            ColumnDrift(
                column="city", method="jensenshannon", value=0.01, threshold=0.05, drifted=False
            ),
        ],
        quality=[QualityFinding(check="schema", rows=0, verdict="pass")],
        share_drifted=0.0 if verdict == "pass" else 0.5,
        verdict=verdict,  # type: ignore[arg-type]
    )


def test_decide() -> None:
    assert decide(section("pass")).action == "nothing"
    retrain = decide(section("retrain"))
    assert retrain.action == "retrain" and "income" in retrain.reason
    assert decide(section("significant")).action == "ask_human"
    with pytest.raises(InputError, match="no drift section"):
        decide(None)


def test_a_quality_failure_alone_asks_a_human() -> None:
    broken = section("pass")
    broken.quality = [QualityFinding(check="duplicate_ids", column="id", rows=3, verdict="fail")]
    broken.verdict = "significant"
    decision = decide(broken)
    assert decision.action == "ask_human" and "duplicate_ids (id)" in decision.reason


def test_issue_body_has_the_marker_and_the_drift_table() -> None:
    body = issue_body(section("significant"), "churn", "https://example.invalid/run/1")
    assert body.startswith(MARKER.format(model="churn"))
    assert (
        "| `income` | wasserstein | 0.6000 | 0.1 | 0.25 | < 0.001 | - | **significant** |" in body
    )
    assert "| `city` | jensenshannon | 0.0100 | 0.05 | - | - | - | pass |" in body
    assert "https://example.invalid/run/1" in body


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_token(TOKEN, "github-actions[bot]", app=True)
    fake_github.add_repo(REPO)
    return fake_github


def _client(gh: FakeGitHub) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, sleep=lambda _seconds: None, timeout=5)


def test_pass_does_nothing(gh: FakeGitHub) -> None:
    result = run_watch(section("pass"), WatchSettings(REPO), _client(gh))
    assert result.action == "nothing" and not result.done
    assert gh.requests == []


def test_retrain_dispatches_the_workflow(gh: FakeGitHub) -> None:
    settings = WatchSettings(REPO, workflow="retrain.yml", ref="main")
    result = run_watch(section("retrain"), settings, _client(gh))
    assert result.done
    [dispatch] = gh.dispatches(REPO)
    assert dispatch["workflow"] == "retrain.yml" and dispatch["ref"] == "main"
    assert gh.issues(REPO) == []


def test_significant_opens_one_issue_then_updates_it(gh: FakeGitHub) -> None:
    # 130 unrelated issues: ours ends up beyond the first page of 100
    settings = WatchSettings(REPO, model="churn")
    first = run_watch(section("significant"), settings, _client(gh))
    for index in range(130):
        gh.add_issue(REPO, f"other {index}", user="bob", body=f"nothing to see {index}")
    assert first.issue_created is True and first.done
    second = run_watch(section("significant"), settings, _client(gh))
    assert second.issue_created is False
    assert second.issue_number == first.issue_number
    ours = [i for i in gh.issues(REPO) if MARKER.format(model="churn") in (i.get("body") or "")]
    assert len(ours) == 1
    assert gh.dispatches(REPO) == []  # significant never retrains
    pages = [r for r in gh.requests if r.method == "GET" and r.path.endswith("/issues")]
    assert len(pages) >= 3  # one for the first run, two pages for the second


def test_labels_are_set_when_the_issue_is_opened_and_kept_on_update(gh: FakeGitHub) -> None:
    settings = WatchSettings(REPO, model="churn", labels=("drift", "needs-review"))
    first = run_watch(section("significant"), settings, _client(gh))
    # a person labels it meanwhile
    labelled = f"/repos/{REPO}/issues/{first.issue_number}/labels"
    _client(gh).request("POST", labelled, json={"labels": ["triaged"]})
    run_watch(section("significant"), settings, _client(gh))
    (ours,) = [i for i in gh.issues(REPO) if i["number"] == first.issue_number]
    assert [label["name"] for label in ours["labels"]] == ["drift", "needs-review", "triaged"]
    patches = [r for r in gh.requests if r.method == "PATCH"]
    assert len(patches) == 1 and "labels" not in patches[0].body


def test_another_models_issue_is_not_reused(gh: FakeGitHub) -> None:
    gh.add_issue(REPO, "drift", user="bob", body=MARKER.format(model="other") + "\nold")
    result = run_watch(section("significant"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.issue_created is True
    assert len(gh.issues(REPO)) == 2


def test_a_lost_create_answer_does_not_duplicate_the_issue(gh: FakeGitHub) -> None:
    gh.faults(script=["lost"], method="POST", match=r"/issues$")
    result = run_watch(section("significant"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.done
    assert [r.fault for r in gh.requests if r.method == "POST"] == ["lost"]  # no second POST
    assert len(gh.issues(REPO)) == 1


def test_find_issue_skips_closed_issues(gh: FakeGitHub) -> None:
    gh.add_issue(REPO, "old", user="bob", body=MARKER.format(model="m"), state="closed")
    assert find_issue(_client(gh), REPO, MARKER.format(model="m")) is None


def test_dry_run_calls_nothing(gh: FakeGitHub) -> None:
    result = run_watch(section("significant"), WatchSettings(REPO, dry_run=True), None)
    assert result.action == "ask_human" and not result.done
    assert gh.requests == []


def test_watch_command(gh, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    record = EvaluationRecord(model="churn", drift=section("retrain"))
    save_record(tmp_path / "rec.json", record)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    args = ["watch", "--record", str(tmp_path / "rec.json"), "--retrain-workflow", "train.yml"]
    run = run_cli([*args, "--dry-run", "--json"], capsys)
    assert run.code == 0, run.err
    assert run.json()["action"] == "retrain" and run.json()["done"] is False
    assert gh.dispatches(REPO) == []
    run = run_cli([*args, "--ref", "release"], capsys)
    assert run.code == 0, run.err
    assert "dispatched train.yml on release" in run.out
    assert [(d["workflow"], d["ref"]) for d in gh.dispatches(REPO)] == [("train.yml", "release")]
    assert TOKEN not in run.out + run.err


def test_watch_command_errors(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    save_record(tmp_path / "empty.json", EvaluationRecord())
    run = run_cli(["watch", "--record", str(tmp_path / "empty.json")], capsys)
    assert run.code == 2 and "no drift section" in run.err
    save_record(tmp_path / "rec.json", EvaluationRecord(drift=section("significant")))
    run = run_cli(["watch", "--record", str(tmp_path / "rec.json"), "--repo", REPO], capsys)
    assert run.code == 2 and "GITHUB_TOKEN is not set" in run.err
