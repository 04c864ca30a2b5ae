"""The one incident scheme, against the contract-checked fake GitHub (faults included)."""

from __future__ import annotations

import pytest

from ml_ci.errors import InputError
from ml_ci.github.client import GitHubClient
from ml_ci.github.incidents import (
    IncidentKey,
    close_on_recovery,
    find_incident,
    list_incidents,
    open_or_update,
)
from tests.fakegithub.server import FakeGitHub

REPO = "acme/models"
TOKEN = "ghs_incidents"


def _client(gh: FakeGitHub) -> GitHubClient:
    gh.add_token(TOKEN, "github-actions[bot]", app=True)
    gh.add_repo(REPO)
    return GitHubClient(gh.url, TOKEN, sleep=lambda _s: None)


def _open(gh: FakeGitHub) -> list[dict[str, object]]:
    return [i for i in gh.issues(REPO) if i["state"] == "open"]


def test_one_issue_per_model_version_and_kind(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    canary = IncidentKey("churn", "v0.3.0", "canary")
    slo = IncidentKey("churn", "v0.2.0", "slo:latency_p95_ms")
    first = open_or_update(client, REPO, canary, title="canary", body="one", labels=("ml-ci",))
    again = open_or_update(client, REPO, canary, title="canary", body="two")
    other = open_or_update(client, REPO, slo, title="slo", body="three")
    assert (first.action, again.action, other.action) == ("opened", "updated", "opened")
    assert first.number == again.number != other.number
    issues = _open(fake_github)
    assert len(issues) == 2
    by_number = {i["number"]: i for i in issues}
    body = str(by_number[first.number]["body"])
    assert body.startswith("two") and canary.marker in body  # updated in place
    assert [label["name"] for label in by_number[first.number]["labels"]] == ["ml-ci"]  # type: ignore[index]


def test_closed_on_recovery_and_a_new_one_after(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    key = IncidentKey("churn", "v0.2.0", "slo:error_rate")
    opened = open_or_update(client, REPO, key, title="t", body="b")
    closed = close_on_recovery(client, REPO, key, comment="recovered: burn 0.3")
    assert (closed.action, closed.number) == ("closed", opened.number)
    assert _open(fake_github) == []
    assert fake_github.comments(REPO, int(opened.number or 0))[-1]["body"] == (
        "recovered: burn 0.3"
    )
    assert close_on_recovery(client, REPO, key, comment="x").action == "none"
    again = open_or_update(client, REPO, key, title="t", body="b")
    assert again.action == "opened" and again.number != opened.number


def test_a_lost_answer_never_duplicates(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    key = IncidentKey("churn", "v0.3.0", "canary")
    # GitHub creates the issue but the answer is lost; the retry must find it, not re-create
    fake_github.faults(script=["lost"], method="POST", match=r"/issues$")
    result = open_or_update(client, REPO, key, title="t", body="b")
    assert result.action == "opened"
    assert len(_open(fake_github)) == 1


def test_someone_elses_issue_quoting_a_similar_marker_is_not_taken(
    fake_github: FakeGitHub,
) -> None:
    client = _client(fake_github)
    key = IncidentKey("churn", "v0.3.0", "canary")
    other = IncidentKey("churn", "v0.3.0", "canary-2")
    fake_github.add_issue(REPO, "unrelated", body=f"see {other.marker}")
    result = open_or_update(client, REPO, key, title="t", body="b")
    assert result.action == "opened"
    assert len(_open(fake_github)) == 2


@pytest.mark.parametrize("bad", ["x -->", "a b", "", "<img>"])
def test_marker_parts_are_strict(bad: str) -> None:
    with pytest.raises(InputError, match="incident"):
        IncidentKey("churn", bad, "canary")


def test_a_strangers_issue_quoting_the_marker_is_not_taken(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    key = IncidentKey("churn", "v0.3.0", "canary")
    stranger = fake_github.add_issue(REPO, "bait", user="mallory", body=key.marker)
    result = open_or_update(client, REPO, key, title="t", body="b")
    assert result.action == "opened" and result.number != stranger["number"]
    assert fake_github.issues(REPO)[0]["body"] == key.marker  # untouched


def test_a_problem_of_no_version_has_version_dash(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    key = IncidentKey("churn", "-", "drift")
    opened = open_or_update(client, REPO, key, title="drift", body="table")
    assert "version=- kind=drift" in key.marker
    assert [(i["version"], i["kind"]) for i in list_incidents(client, REPO)] == [("-", "drift")]
    assert close_on_recovery(client, REPO, key, comment="ok").number == opened.number
    with pytest.raises(InputError):
        IncidentKey("churn", "--", "drift")  # only "-" alone


def test_an_older_marker_is_found_then_replaced(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    old = "<!-- ml-ci:drift-watch model=churn -->"
    key = IncidentKey("churn", "-", "drift")
    stranger = fake_github.add_issue(REPO, "bait", user="mallory", body=old)
    legacy = fake_github.add_issue(REPO, "drift", user="github-actions[bot]", body=f"{old}\nold")
    # without the legacy marker the old issue is not ours
    assert find_incident(client, REPO, key) is None
    assert find_incident(client, REPO, key, legacy=(old,))["number"] == legacy["number"]  # type: ignore[index]
    updated = open_or_update(client, REPO, key, title="drift", body="new", legacy=(old,))
    assert (updated.action, updated.number) == ("updated", legacy["number"])
    body = str(next(i for i in _open(fake_github) if i["number"] == legacy["number"])["body"])
    assert old not in body and key.marker in body
    # the current marker wins over an older one in another issue
    fake_github.add_issue(REPO, "older", user="github-actions[bot]", body=old)
    assert find_incident(client, REPO, key, legacy=(old,))["number"] == legacy["number"]  # type: ignore[index]
    closed = close_on_recovery(client, REPO, key, comment="recovered", legacy=(old,))
    assert closed.number == legacy["number"]
    assert stranger["number"] in [i["number"] for i in _open(fake_github)]


def test_another_bots_issue_quoting_the_marker_is_not_taken(fake_github: FakeGitHub) -> None:
    # any app can open issues on a repository it is installed on (renovate, dependabot):
    # only ml-ci's own bot identity and people with a repository role are trusted
    client = _client(fake_github)
    key = IncidentKey("churn", "v0.3.0", "canary")
    bait = fake_github.add_issue(REPO, "bait", user="renovate[bot]", body=f"> {key.marker}")
    assert find_incident(client, REPO, key) is None
    assert close_on_recovery(client, REPO, key, comment="x").action == "none"
    assert list_incidents(client, REPO) == []
    result = open_or_update(client, REPO, key, title="t", body="b")
    assert result.action == "opened" and result.number != bait["number"]
    assert fake_github.issues(REPO)[0]["state"] == "open"  # untouched
    assert fake_github.issues(REPO)[0]["body"] == f"> {key.marker}"


def test_ml_cis_own_bot_and_configured_bots_are_trusted(fake_github: FakeGitHub) -> None:
    client = _client(fake_github)
    key = IncidentKey("churn", "v0.3.0", "canary")
    ours = fake_github.add_issue(REPO, "ours", user="github-actions[bot]", body=key.marker)
    app = fake_github.add_issue(
        REPO, "app", user="acme-ml[bot]", body=key.marker.replace("canary", "drift")
    )
    assert find_incident(client, REPO, key)["number"] == ours["number"]  # type: ignore[index]
    drift = IncidentKey("churn", "v0.3.0", "drift")
    assert find_incident(client, REPO, drift) is None
    found = find_incident(client, REPO, drift, bots=("github-actions[bot]", "acme-ml[bot]"))
    assert found is not None and found["number"] == app["number"]
    assert [i["number"] for i in list_incidents(client, REPO, bots=("acme-ml[bot]",))] == [
        app["number"]
    ]
