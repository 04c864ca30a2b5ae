"""The fake GitHub itself: it refuses what GitHub would refuse and records it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.fakegithub.server import FakeGitHub

REPO = "acme/models"
AUTH = {"Authorization": "Bearer ghs_t"}


def started() -> FakeGitHub:
    gh = FakeGitHub().start()
    gh.add_token("ghs_t", "alice")
    gh.add_pull(REPO, 1, "a" * 40, "bob")
    return gh


def test_nonconforming_requests_get_4xx_and_are_recorded() -> None:
    gh = started()
    try:
        bad_body = requests.post(
            f"{gh.url}/repos/{REPO}/issues/1/comments", json={"text": "x"}, headers=AUTH, timeout=5
        )
        bad_query = requests.get(
            f"{gh.url}/repos/{REPO}/issues/1/comments",
            params={"per_page": "lots"},
            headers=AUTH,
            timeout=5,
        )
        bad_path = requests.get(f"{gh.url}/repos/{REPO}/nonsense", headers=AUTH, timeout=5)
        bad_state = requests.post(
            f"{gh.url}/repos/{REPO}/statuses/{'a' * 40}",
            json={"state": "green"},
            headers=AUTH,
            timeout=5,
        )
    finally:
        gh.stop()
    assert [r.status_code for r in (bad_body, bad_query, bad_path, bad_state)] == [
        422,
        422,
        404,
        422,
    ]
    assert len(gh.violations) == 4
    assert "body" in gh.violations[0]["error"]


def test_github_limits_and_conflicts() -> None:
    gh = started()
    try:
        url = f"{gh.url}/repos/{REPO}"
        long = requests.post(
            f"{url}/issues/1/comments", json={"body": "x" * 65_537}, headers=AUTH, timeout=5
        )
        fits = requests.post(
            f"{url}/issues/1/comments", json={"body": "x" * 65_536}, headers=AUTH, timeout=5
        )
        release = requests.post(
            f"{url}/releases", json={"tag_name": "m@v1"}, headers=AUTH, timeout=5
        ).json()
        upload = release["upload_url"].split("{")[0]
        first = requests.post(
            upload,
            params={"name": "card.md"},
            data=b"# card",
            headers={**AUTH, "Content-Type": "text/markdown"},
            timeout=5,
        )
        again = requests.post(
            upload,
            params={"name": "card.md"},
            data=b"# card",
            headers={**AUTH, "Content-Type": "text/markdown"},
            timeout=5,
        )
        raw = requests.get(
            first.json()["url"], headers={**AUTH, "Accept": "application/octet-stream"}, timeout=5
        )
    finally:
        gh.stop()
    assert long.status_code == 422 and "too long" in long.text
    assert fits.status_code == 201
    assert first.status_code == 201 and again.status_code == 422
    assert again.json()["errors"][0]["code"] == "already_exists"
    assert raw.content == b"# card"
    assert gh.violations == []


def test_standalone_process_serves_state_and_dumps_it(tmp_path: Path) -> None:
    state = {
        "tokens": {"ghs_t": {"login": "github-actions[bot]", "app": True, "org_members": True}},
        "repos": {
            REPO: {
                "pulls": [{"number": 3, "head_sha": "c" * 40, "user": "bob"}],
                "collaborators": {"alice": "maintain"},
                "reviews": [{"number": 3, "user": "alice", "state": "APPROVED"}],
                "issues": [{"title": "Data drift", "labels": ["ml-ci"]}],
            }
        },
        "teams": {"acme/leads": ["alice"]},
    }
    (tmp_path / "state.json").write_text(json.dumps(state))
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakegithub",
            "--port",
            "0",
            "--state",
            "state.json",
            "--dump",
            "final.json",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        headers = {"Authorization": "token ghs_t"}
        pull = requests.get(f"{url}/repos/{REPO}/pulls/3", headers=headers, timeout=10).json()
        posted = requests.post(
            f"{url}/repos/{REPO}/issues/3/comments",
            json={"body": "hi"},
            headers=headers,
            timeout=10,
        )
        reviews = requests.get(f"{url}/repos/{REPO}/pulls/3/reviews", headers=headers, timeout=10)
        issues = requests.get(
            f"{url}/repos/{REPO}/issues", params={"labels": "ml-ci"}, headers=headers, timeout=10
        )
        member = requests.get(
            f"{url}/orgs/acme/teams/leads/memberships/alice", headers=headers, timeout=10
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert url.startswith("http://127.0.0.1:")
    assert pull["head"]["sha"] == "c" * 40 and posted.status_code == 201
    assert member.json()["state"] == "active"
    assert [r["user"]["login"] for r in reviews.json()] == ["alice"]
    assert [i["title"] for i in issues.json()] == ["Data drift"]
    final = json.loads((tmp_path / "final.json").read_text())
    assert [c["body"] for c in final["repos"][REPO]["comments"]] == ["hi"]
    assert final["violations"] == [] and code == 0


def test_out_of_spec_answers_are_caught() -> None:
    """The fake's own answers are checked: a comment without its id is not GitHub's shape."""
    from tests.fakegithub import spec

    gh = started()
    try:
        good = gh.add_comment(REPO, 1, "hello", "bob")
    finally:
        gh.stop()
    request = spec.make_request("GET", f"/repos/{REPO}/issues/1/comments", [], {}, None)
    assert spec.validate_response(request, 200, [good], {}) is None
    broken = {k: v for k, v in good.items() if k != "id"}
    problem = spec.validate_response(request, 200, [broken], {})
    assert problem is not None and "'id' is a required property" in problem
