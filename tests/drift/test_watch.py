"""``ml-ci watch``: the pure decision, and its GitHub calls against the fake GitHub API."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.drift.watch import (
    LEGACY_MARKER,
    WatchSettings,
    decide,
    incident_key,
    issue_body,
    run_watch,
)
from ml_ci.errors import InputError
from ml_ci.github.client import GitHubClient
from ml_ci.github.incidents import IncidentKey, list_incidents
from ml_ci.record import EvaluationRecord, save_record
from ml_ci.record.drift import ColumnDrift, DriftSection, QualityFinding
from ml_ci.record.release import ReleaseSection
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


def test_issue_body_has_the_drift_table_escaped() -> None:
    hostile = section("significant")
    hostile.columns[1].column = "<img src=x> @admin | `x`"
    body = issue_body(hostile, "churn", "https://example.invalid/run/1", version="v1.2.0")
    assert "at version `v1.2.0`" in body
    assert (
        "| `income` | wasserstein | 0.6000 | 0.1 | 0.25 | < 0.001 | - | **significant** |" in body
    )
    # a code span (no HTML, no mention), its pipe escaped so the row keeps its cells
    hostile_row = "| `` <img src=x> @admin \\| `x` `` | jensenshannon | 0.0100 | 0.05 | - | - | - |"
    assert hostile_row + " pass |" in body
    assert "https://example.invalid/run/1" in body
    assert "ml-ci:" not in body  # the marker is the incident scheme's, added when written


def test_the_incident_key_is_the_models_and_the_versions() -> None:
    assert incident_key("churn", "v1.2.0") == IncidentKey("churn", "v1.2.0", "drift")
    assert incident_key("churn", None).version == "-"
    with pytest.raises(InputError, match="record's release version 'v1 -->'"):
        incident_key("churn", "v1 -->")


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_token(TOKEN, "github-actions[bot]", app=True)
    fake_github.add_repo(REPO)
    return fake_github


def _client(gh: FakeGitHub) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, sleep=lambda _seconds: None, timeout=5)


DRIFT = IncidentKey("churn", "-", "drift").marker


def _ours(gh: FakeGitHub, marker: str = DRIFT, state: str = "open") -> list[dict[str, object]]:
    return [
        i for i in gh.issues(REPO) if i["state"] == state and marker in str(i.get("body") or "")
    ]


def test_pass_with_no_incident_only_looks(gh: FakeGitHub) -> None:
    result = run_watch(section("pass"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.action == "nothing" and result.incident == "none" and not result.done
    assert {r.method for r in gh.requests} == {"GET"}


def test_pass_closes_the_open_drift_incident(gh: FakeGitHub) -> None:
    settings = WatchSettings(REPO, model="churn")
    opened = run_watch(section("significant"), settings, _client(gh))
    other = run_watch(section("significant"), WatchSettings(REPO, model="other"), _client(gh))
    result = run_watch(section("pass"), settings, _client(gh), run_url="https://run.invalid/7")
    assert result.incident == "closed" and result.done
    assert result.issue_number == opened.issue_number
    (closed,) = _ours(gh, state="closed")
    assert closed["number"] == opened.issue_number
    (comment,) = gh.comments(REPO, int(closed["number"]))  # type: ignore[call-overload]
    assert comment["body"].startswith("Recovered") and "https://run.invalid/7" in comment["body"]
    # another model's incident stays open
    assert [i["number"] for i in gh.issues(REPO) if i["state"] == "open"] == [other.issue_number]


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
    (ours,) = _ours(gh)
    assert (
        "`income`" in str(ours["body"])
        and ours["title"] == "Data drift needs human validation (churn)"
    )
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


def test_one_incident_per_version(gh: FakeGitHub) -> None:
    first = WatchSettings(REPO, model="churn", version="v1.0.0")
    second = WatchSettings(REPO, model="churn", version="v1.1.0")
    a = run_watch(section("significant"), first, _client(gh))
    b = run_watch(section("significant"), second, _client(gh))
    again = run_watch(section("significant"), first, _client(gh))
    assert a.issue_number == again.issue_number != b.issue_number
    assert [(i["version"], i["kind"]) for i in list_incidents(_client(gh), REPO)] == [
        ("v1.0.0", "drift"),
        ("v1.1.0", "drift"),
    ]
    run_watch(section("pass"), first, _client(gh))  # v1.0.0 recovered; v1.1.0 still drifts
    assert [i["version"] for i in list_incidents(_client(gh), REPO)] == ["v1.1.0"]


def test_another_models_incident_is_not_reused(gh: FakeGitHub) -> None:
    other = IncidentKey("other", "-", "drift").marker
    gh.add_issue(REPO, "drift", user="github-actions[bot]", body=f"old\n{other}")
    result = run_watch(section("significant"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.issue_created is True
    assert len(gh.issues(REPO)) == 2


def test_an_issue_of_an_older_ml_ci_is_updated_not_duplicated(gh: FakeGitHub) -> None:
    old = LEGACY_MARKER.format(model="churn")
    legacy = gh.add_issue(REPO, "Data drift", user="github-actions[bot]", body=f"{old}\nold")
    result = run_watch(section("significant"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.incident == "updated" and result.issue_number == legacy["number"]
    (issue,) = gh.issues(REPO)
    assert DRIFT in issue["body"] and old not in issue["body"]  # migrated to the shared marker
    assert list_incidents(_client(gh), REPO)[0]["kind"] == "drift"  # the dashboard lists it


def test_a_pass_closes_an_older_ml_cis_issue(gh: FakeGitHub) -> None:
    old = LEGACY_MARKER.format(model="churn")
    legacy = gh.add_issue(REPO, "Data drift", user="github-actions[bot]", body=old)
    result = run_watch(section("pass"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.incident == "closed" and result.issue_number == legacy["number"]
    assert [i["state"] for i in gh.issues(REPO)] == ["closed"]


def test_a_strangers_issue_quoting_the_marker_is_not_written_to(gh: FakeGitHub) -> None:
    for marker in (DRIFT, LEGACY_MARKER.format(model="churn")):
        gh.add_issue(REPO, "bait", user="mallory", body=f"please fix {marker}")
    result = run_watch(section("significant"), WatchSettings(REPO, model="churn"), _client(gh))
    assert result.incident == "opened"
    assert [i["title"] for i in gh.issues(REPO)][:2] == ["bait", "bait"]
    assert all(i["body"].startswith("please fix") for i in gh.issues(REPO)[:2])
    run_watch(section("pass"), WatchSettings(REPO, model="churn"), _client(gh))
    assert [i["state"] for i in gh.issues(REPO)] == ["open", "open", "closed"]


def test_dry_run_calls_nothing(gh: FakeGitHub) -> None:
    for verdict in ("significant", "pass", "retrain"):
        result = run_watch(section(verdict), WatchSettings(REPO, dry_run=True), None)
        assert not result.done and result.incident is None
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


def test_watch_command_opens_the_versions_incident_then_closes_it(
    gh, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    release = ReleaseSection(model="churn", version="v2.0.0", stage="production", commit="a" * 40)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    path = tmp_path / "rec.json"
    save_record(
        path, EvaluationRecord(model="churn", release=release, drift=section("significant"))
    )
    run = run_cli(["watch", "--record", str(path), "--label", "drift", "--json"], capsys)
    assert run.code == 0, run.err
    assert run.json()["incident"] == "opened" and run.json()["version"] == "v2.0.0"
    (incident,) = list_incidents(_client(gh), REPO)
    assert (incident["model"], incident["version"], incident["kind"]) == (
        "churn",
        "v2.0.0",
        "drift",
    )
    assert incident["title"] == "Data drift needs human validation (churn v2.0.0)"
    save_record(path, EvaluationRecord(model="churn", release=release, drift=section("pass")))
    run = run_cli(["watch", "--record", str(path)], capsys)
    assert run.code == 0, run.err
    assert f"closed the drift incident #{incident['number']}" in run.out and "recovered" in run.out
    assert list_incidents(_client(gh), REPO) == []
    run = run_cli(["watch", "--record", str(path)], capsys)
    assert run.code == 0 and "nothing to do" in run.out


def test_watch_command_refuses_a_name_the_marker_cannot_carry(
    gh, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    path = tmp_path / "rec.json"
    save_record(path, EvaluationRecord(model="churn --> @admin", drift=section("significant")))
    for extra in ([], ["--dry-run"]):
        run = run_cli(["watch", "--record", str(path), "--repo", REPO, *extra], capsys)
        assert run.code == 2 and "the record's model 'churn --> @admin'" in run.err, run.err
        assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err
    assert gh.requests == []


def test_watch_trusts_the_bots_of_monitor_incident_bots(
    gh, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """An incident opened by the team's own app (named in ml-ci.yaml) is updated, not
    duplicated; another bot's issue quoting the marker is left alone."""
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ml-ci.yaml").write_text(
        "model: {name: churn}\nmonitor: {incident_bots: ['acme-ml[bot]']}\n"
    )
    bait = gh.add_issue(REPO, "bait", user="renovate[bot]", body=f"quoting {DRIFT}")
    ours = gh.add_issue(REPO, "Data drift", user="acme-ml[bot]", body=f"{DRIFT}\nold")
    save_record(
        tmp_path / "rec.json", EvaluationRecord(model="churn", drift=section("significant"))
    )
    run = run_cli(["watch", "--record", str(tmp_path / "rec.json"), "--json"], capsys)
    assert run.code == 0, run.err
    assert run.json()["incident"] == "updated" and run.json()["issue_number"] == ours["number"]
    issues = {i["number"]: i for i in gh.issues(REPO)}
    assert issues[bait["number"]]["body"] == f"quoting {DRIFT}" and len(issues) == 2
