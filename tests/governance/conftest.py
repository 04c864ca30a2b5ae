from pathlib import Path

import pytest

from tests.fakegithub.plugin import fake_github  # noqa: F401
from tests.fakegithub.server import FakeGitHub
from tests.governance.helpers import HEAD, REPO, TOKEN


@pytest.fixture
def gh(
    fake_github: FakeGitHub,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeGitHub:
    fake_github.add_token(TOKEN, "github-actions[bot]", app=True)
    fake_github.add_pull(REPO, 7, head_sha=HEAD, user="bob")
    for login, role in {
        "alice": "write",
        "bob": "write",
        "mallory": "admin",
        "rita": "read",
    }.items():
        fake_github.add_collaborator(REPO, login, role)
    (tmp_path / "ml-ci.yaml").write_text(
        "model: {name: churn}\ngovernance:\n  approvers: [alice, bob, rita]\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return fake_github
