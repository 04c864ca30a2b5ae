"""The GitHub client against the contract-checked fake server (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import pytest

from ml_ci.errors import InputError
from ml_ci.github.client import (
    Forbidden,
    GitHubClient,
    GitHubError,
    NotFound,
    RateLimited,
    Unprocessable,
    WriteUnconfirmed,
)
from tests.fakegithub.server import FakeGitHub

TOKEN = "ghs_secretTOKENvalue1234567890"
REPO = "acme/models"


def make_client(gh: FakeGitHub, sleeps: list[float], **options: object) -> GitHubClient:
    options.setdefault("timeout", 0.3)
    return GitHubClient(gh.url, TOKEN, sleep=sleeps.append, **options)  # type: ignore[arg-type]


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_token(TOKEN, "alice")
    fake_github.add_pull(REPO, 7, "a" * 40, "bob")
    return fake_github


def test_sends_github_headers_and_bearer_token(gh: FakeGitHub) -> None:
    client = make_client(gh, [])
    assert client.get_json("/user")["login"] == "alice"  # the server resolved the token
    headers = gh.requests[-1].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("ml-ci/")


@pytest.mark.parametrize("count", [30, 31, 100, 101, 250])
def test_paginate_follows_link_headers(gh: FakeGitHub, count: int) -> None:
    for index in range(count):
        gh.add_comment(REPO, 7, f"comment {index}", "bob")
    bodies = [c["body"] for c in make_client(gh, []).paginate(f"/repos/{REPO}/issues/7/comments")]
    assert bodies == [f"comment {index}" for index in range(count)]
    pages = [r for r in gh.requests if r.path.endswith("/comments")]
    assert len(pages) == max(1, -(-count // 100))
    assert pages[0].query["per_page"] == "100"


def test_retries_5xx_with_exponential_backoff(gh: FakeGitHub) -> None:
    gh.faults(script=["500", "502", "500"])
    sleeps: list[float] = []
    assert make_client(gh, sleeps).get_json(f"/repos/{REPO}/pulls/7")["number"] == 7
    assert sleeps == [1.0, 2.0, 4.0]


def test_gives_up_after_max_retries(gh: FakeGitHub) -> None:
    gh.faults(script=["500"] * 3)
    with pytest.raises(GitHubError) as caught:
        make_client(gh, [], max_retries=2).get_json(f"/repos/{REPO}/pulls/7")
    assert caught.value.status == 500


def test_timeouts_and_lost_answers_are_retried_for_reads(gh: FakeGitHub) -> None:
    gh.faults(script=["timeout", "lost"])
    sleeps: list[float] = []
    assert make_client(gh, sleeps).get_json(f"/repos/{REPO}/pulls/7")["number"] == 7
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("kind", ["429", "secondary"])
def test_secondary_limits_wait_retry_after(gh: FakeGitHub, kind: str) -> None:
    gh.retry_after = 7
    gh.faults(script=[kind])
    sleeps: list[float] = []
    assert make_client(gh, sleeps).get_json(f"/repos/{REPO}/pulls/7")["number"] == 7
    assert sleeps == [7.0]


def test_primary_limit_waits_until_reset(gh: FakeGitHub) -> None:
    gh.retry_after = 20  # the fake sets x-ratelimit-reset = now + 20
    gh.faults(script=["primary"])
    sleeps: list[float] = []
    client = make_client(gh, sleeps)
    assert client.get_json(f"/repos/{REPO}/pulls/7")["number"] == 7
    assert len(sleeps) == 1 and 19.0 <= sleeps[0] <= 22.0  # reset - now + 1 s of margin


def test_rate_limit_beyond_max_wait_is_a_clear_error(gh: FakeGitHub) -> None:
    gh.retry_after = 3600
    gh.faults(script=["primary"])
    with pytest.raises(RateLimited) as caught:
        make_client(gh, [], max_wait=60).get_json(f"/repos/{REPO}/pulls/7")
    message = str(caught.value)
    assert "rate limit" in message and "\n" not in message and TOKEN not in message


def test_rate_limited_post_is_retried(gh: FakeGitHub) -> None:
    """GitHub refused the call without acting on it, so even a POST may be repeated."""
    gh.faults(script=["secondary"], method="POST")
    client = make_client(gh, [])
    client.request("POST", f"/repos/{REPO}/issues/7/comments", json={"body": "hi"})
    assert [c["body"] for c in gh.comments(REPO, 7)] == ["hi"]


@pytest.mark.parametrize("kind", ["lost", "500", "timeout"])
def test_post_with_lost_answer_is_not_blindly_repeated(gh: FakeGitHub, kind: str) -> None:
    gh.faults(script=[kind], method="POST")
    with pytest.raises(WriteUnconfirmed):
        make_client(gh, []).request("POST", f"/repos/{REPO}/issues/7/comments", json={"body": "hi"})
    # lost: the write happened; 500/timeout: it did not. Either way: at most one comment.
    assert len(gh.comments(REPO, 7)) == (1 if kind == "lost" else 0)


def test_idempotent_post_is_retried(gh: FakeGitHub) -> None:
    gh.faults(script=["lost"], method="POST")
    make_client(gh, []).request(
        "POST", f"/repos/{REPO}/statuses/{'a' * 40}", json={"state": "success"}, idempotent=True
    )
    assert len(gh.statuses(REPO, "a" * 40)) == 2  # harmless: the latest per context wins


def test_not_found_and_unprocessable(gh: FakeGitHub) -> None:
    client = make_client(gh, [])
    with pytest.raises(NotFound) as missing:
        client.get_json(f"/repos/{REPO}/pulls/999")
    assert missing.value.status == 404
    body = {"ref": "refs/tags/churn@v1.0.0", "sha": "a" * 40}
    client.request("POST", f"/repos/{REPO}/git/refs", json=body)
    with pytest.raises(Unprocessable, match="Reference already exists") as exists:
        client.request("POST", f"/repos/{REPO}/git/refs", json=body)
    assert exists.value.status == 422


def test_fork_token_403_explains_the_two_workflow_pattern(gh: FakeGitHub) -> None:
    gh.add_token("ghs_forkreadonly", "github-actions[bot]", app=True, read_only=True)
    client = GitHubClient(gh.url, "ghs_forkreadonly", sleep=lambda s: None)
    with pytest.raises(Forbidden) as caught:
        client.request("POST", f"/repos/{REPO}/issues/7/comments", json={"body": "x"})
    message = str(caught.value)
    assert "Resource not accessible by integration" in message
    assert "workflow_run" in message and "pull-requests: write" in message
    assert "\n" not in message and "ghs_forkreadonly" not in message
    assert isinstance(caught.value, InputError)  # exit 2, a one-line user error


def test_token_never_in_errors_or_repr(gh: FakeGitHub) -> None:
    client = make_client(gh, [], max_retries=0)
    assert TOKEN not in repr(client)
    failures = []
    gh.faults(script=["500"])
    for call in (
        lambda: client.get_json(f"/repos/{REPO}/pulls/1"),
        lambda: client.get_json(f"/repos/{REPO}/pulls/999"),
        lambda: client.request("POST", f"/repos/{REPO}/issues/7/comments", json={"body": ""}),
        lambda: client.get_json(f"http://evil.invalid/{TOKEN}"),
    ):
        with pytest.raises(GitHubError) as caught:
            call()
        failures.append(caught.value)
    bad = GitHubClient(gh.url, "ghp_unknownTOKEN", sleep=lambda s: None)
    with pytest.raises(GitHubError) as unknown:
        bad.get_json("/user")
    assert "ghp_unknownTOKEN" not in str(unknown.value) and unknown.value.status == 401
    for error in failures:
        assert TOKEN not in str(error) and TOKEN not in repr(error)
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__


def test_refuses_to_send_the_token_to_another_origin(gh: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="refusing"):
        make_client(gh, []).get_json("http://127.0.0.2:9/user")


def test_from_env_uses_github_api_url_and_token() -> None:
    server = FakeGitHub(prefix="/api/v3").start()  # GitHub Enterprise Server layout
    try:
        server.add_token(TOKEN, "enterprise-user")
        env = {"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN}
        client = GitHubClient.from_env(env)
        assert client.api_url.endswith("/api/v3")
        assert client.get_json("/user")["login"] == "enterprise-user"
        assert server.requests[-1].path == "/api/v3/user"
    finally:
        server.stop()
    assert server.violations == []


def test_from_env_without_token_says_what_to_do() -> None:
    with pytest.raises(InputError, match="GITHUB_TOKEN"):
        GitHubClient.from_env({})
    assert GitHubClient.from_env({}, require_token=False).api_url == "https://api.github.com"
