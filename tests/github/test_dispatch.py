"""Dispatching a workflow, against the contract-checked fake GitHub: the run and GitHub's
refusals, each one line saying what to fix."""

from __future__ import annotations

import re

import pytest

from ml_ci.errors import InputError
from ml_ci.github.client import GitHubClient
from ml_ci.github.dispatch import dispatch_workflow
from tests.fakegithub.server import FakeGitHub

REPO = "acme/models"
TOKEN = "ghs_dispatch"
READ_ONLY = "ghs_read_only"


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_token(TOKEN, "github-actions[bot]", app=True)
    fake_github.add_token(READ_ONLY, "github-actions[bot]", app=True, read_only=True)
    fake_github.add_repo(REPO)
    return fake_github


def _client(gh: FakeGitHub, token: str = TOKEN) -> GitHubClient:
    return GitHubClient(gh.url, token, sleep=lambda _s: None, timeout=5)


def test_dispatch_queues_the_workflow_on_the_ref(gh: FakeGitHub) -> None:
    dispatch_workflow(_client(gh), REPO, "retrain.yml", "release")
    assert [(d["workflow"], d["ref"]) for d in gh.dispatches(REPO)] == [("retrain.yml", "release")]


def test_not_found_says_which_workflow(gh: FakeGitHub) -> None:
    # GitHub answers 404 for a workflow (or repository) the token cannot find
    with pytest.raises(InputError) as caught:
        dispatch_workflow(_client(gh), "acme/missing", "retrain.yml", "main")
    message = str(caught.value)
    assert "workflow not found" in message and ".github/workflows/retrain.yml" in message
    assert "\n" not in message


def test_forbidden_names_the_permission(gh: FakeGitHub) -> None:
    with pytest.raises(InputError, match="needs 'actions: write'"):
        dispatch_workflow(_client(gh, READ_ONLY), REPO, "retrain.yml", "main")
    assert gh.dispatches(REPO) == []


def test_unprocessable_names_the_trigger_and_the_ref(gh: FakeGitHub) -> None:
    gh.faults(script=["422"], method="POST", match=r"/dispatches$")
    with pytest.raises(InputError, match="workflow_dispatch' trigger on nope"):
        dispatch_workflow(_client(gh), REPO, "retrain.yml", "nope")


def test_a_path_is_not_a_workflow_name(gh: FakeGitHub) -> None:
    with pytest.raises(InputError, match=re.escape("file name under .github/workflows")):
        dispatch_workflow(_client(gh), REPO, "../pulls/1", "main")
    assert gh.requests == []
