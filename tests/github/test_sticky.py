"""The sticky report comment: exactly one per pull request and key, whatever happens."""

from __future__ import annotations

import threading

import pytest

from ml_ci.github.client import GitHubClient
from ml_ci.github.publish import ACTIONS_BOT, marker, sticky_comment, upsert_sticky_comment
from tests.fakegithub.server import FakeGitHub

TOKEN = "ghs_actionsTOKEN0000000000000000"
REPO = "acme/models"
PR = 7


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_token(TOKEN, ACTIONS_BOT, app=True)
    fake_github.add_pull(REPO, PR, "a" * 40, "bob")
    return fake_github


def client(gh: FakeGitHub, **options: object) -> GitHubClient:
    options.setdefault("timeout", 0.3)
    return GitHubClient(gh.url, TOKEN, sleep=lambda s: None, **options)  # type: ignore[arg-type]


def ours(gh: FakeGitHub, key: str = "default") -> list[dict[str, object]]:
    return [
        c
        for c in gh.comments(REPO, PR)
        if c["user"]["login"] == ACTIONS_BOT and str(c["body"]).startswith(marker(key))
    ]


def test_create_then_update_in_place_then_skip_unchanged(gh: FakeGitHub) -> None:
    first = sticky_comment(client(gh), REPO, PR, "default", "v1")
    second = sticky_comment(client(gh), REPO, PR, "default", "v2")
    writes_before = sum(r.method != "GET" for r in gh.requests)
    third = sticky_comment(client(gh), REPO, PR, "default", "v2")
    assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
    assert first.comment["id"] == second.comment["id"] == third.comment["id"]
    assert sum(r.method != "GET" for r in gh.requests) == writes_before  # no write at all
    assert [c["body"] for c in ours(gh)] == [f"{marker('default')}\nv2"]


def test_fifty_publishes_with_faults_on_a_third_of_calls_leave_one_comment(gh: FakeGitHub) -> None:
    gh.timeout_sleep = 0.2
    gh.faults(rate=1 / 3, seed=11)
    c = client(gh, timeout=0.12, max_retries=12)
    for run in range(50):
        sticky_comment(c, REPO, PR, "default", f"report {run}")
    gh.clear_faults()
    assert len(ours(gh)) == 1
    assert ours(gh)[0]["body"].endswith("report 49")  # updated to the last run
    faults = {r.fault for r in gh.requests if r.fault}
    assert {"lost", "timeout", "500", "secondary"} <= faults  # the faults really happened


def test_lost_create_answer_does_not_duplicate(gh: FakeGitHub) -> None:
    gh.faults(script=["lost", "lost"], method="POST")
    result = sticky_comment(client(gh), REPO, PR, "default", "body")
    assert len(ours(gh)) == 1 and result.action == "created"


def test_racing_runs_converge_to_one_comment(gh: FakeGitHub) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            sticky_comment(client(gh), REPO, PR, "default", f"run {index}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ours(gh)) == 1


def test_existing_duplicates_are_merged_into_the_oldest(gh: FakeGitHub) -> None:
    first = gh.add_comment(REPO, PR, f"{marker('default')}\nold 1", ACTIONS_BOT)
    gh.add_comment(REPO, PR, f"{marker('default')}\nold 2", ACTIONS_BOT)
    result = sticky_comment(client(gh), REPO, PR, "default", "new")
    assert result.removed_duplicates == 1
    assert [c["id"] for c in ours(gh)] == [first["id"]]
    assert ours(gh)[0]["body"].endswith("new")


def test_foreign_comment_with_the_marker_is_left_alone(gh: FakeGitHub) -> None:
    foreign = gh.add_comment(REPO, PR, f"{marker('default')}\nmallory's copy", "mallory")
    sticky_comment(client(gh), REPO, PR, "default", "ours")
    comments = gh.comments(REPO, PR)
    assert [c["body"] for c in comments if c["id"] == foreign["id"]] == [foreign["body"]]
    assert len(ours(gh)) == 1 and len(comments) == 2


@pytest.mark.parametrize("before", [35, 150])
def test_finds_its_comment_beyond_the_first_page(gh: FakeGitHub, before: int) -> None:
    for index in range(before):
        gh.add_comment(REPO, PR, f"chatter {index}", "bob")
    original = sticky_comment(client(gh), REPO, PR, "default", "v1").comment
    for index in range(120):
        gh.add_comment(REPO, PR, f"more chatter {index}", "bob")
    result = sticky_comment(client(gh), REPO, PR, "default", "v2")
    assert result.action == "updated" and result.comment["id"] == original["id"]
    assert len(ours(gh)) == 1


def test_keys_are_independent(gh: FakeGitHub) -> None:
    upsert_sticky_comment(client(gh), REPO, PR, "default", "report")
    upsert_sticky_comment(client(gh), REPO, PR, "governance", "approvals")
    assert len(ours(gh, "default")) == 1 and len(ours(gh, "governance")) == 1


def test_identity_from_get_user_for_personal_tokens(gh: FakeGitHub) -> None:
    gh.add_token("ghp_alice", "alice")
    gh.add_comment(REPO, PR, f"{marker('default')}\nby the bot", ACTIONS_BOT)
    alice = GitHubClient(gh.url, "ghp_alice", sleep=lambda s: None)
    comment = upsert_sticky_comment(alice, REPO, PR, "default", "by alice")
    assert comment["user"]["login"] == "alice"
    assert len(gh.comments(REPO, PR)) == 2  # the bot's comment is not alice's to edit


def test_configured_login_for_other_apps(gh: FakeGitHub) -> None:
    gh.add_token("ghs_app", "ml-bot[bot]", app=True)
    app = GitHubClient(gh.url, "ghs_app", sleep=lambda s: None)
    upsert_sticky_comment(app, REPO, PR, "default", "one", login="ml-bot[bot]")
    upsert_sticky_comment(app, REPO, PR, "default", "two", login="ml-bot[bot]")
    assert [c["body"].splitlines()[-1] for c in gh.comments(REPO, PR)] == ["two"]
    assert not any(r.path == "/user" for r in gh.requests)


def test_oversized_body_is_cut_not_refused(gh: FakeGitHub) -> None:
    comment = upsert_sticky_comment(client(gh), REPO, PR, "default", "x" * 70_000)
    assert len(comment["body"]) <= 65_536 and "truncated" in comment["body"]
