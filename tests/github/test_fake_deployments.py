"""The fake's Deployments API keeps GitHub's defaults: auto-merge and required contexts."""

from __future__ import annotations

import pytest

from ml_ci.github.client import GitHubClient, GitHubError
from tests.fakegithub.server import FakeGitHub

REPO = "acme/models"


def test_a_tag_deployment_needs_auto_merge_off_and_no_required_contexts(
    fake_github: FakeGitHub,
) -> None:
    gh = fake_github
    gh.add_token("ghs_d", "github-actions[bot]", app=True)
    gh.add_repo(REPO)
    client = GitHubClient(gh.url, "ghs_d", sleep=lambda _s: None, max_retries=0)
    with pytest.raises(GitHubError, match="409"):
        client.request("POST", f"/repos/{REPO}/deployments", json={"ref": "churn@v0.2.0"})
    with pytest.raises(GitHubError, match="409"):
        client.request(
            "POST", f"/repos/{REPO}/deployments", json={"ref": "churn@v0.2.0", "auto_merge": False}
        )
    made = client.request(
        "POST",
        f"/repos/{REPO}/deployments",
        json={"ref": "churn@v0.2.0", "auto_merge": False, "required_contexts": [],
              "environment": "canary"},
    ).json()  # fmt: skip
    client.request(
        "POST", f"/repos/{REPO}/deployments/{made['id']}/statuses", json={"state": "success"}
    )
    listed = list(client.paginate(f"/repos/{REPO}/deployments", {"environment": "canary"}))
    assert [d["id"] for d in listed] == [made["id"]]
    assert gh.deployments(REPO)[0]["statuses"][0]["state"] == "success"
