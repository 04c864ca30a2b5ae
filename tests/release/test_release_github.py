"""``ml-ci release`` online: the merged pull request, approvals and the GitHub release come
from the fake GitHub API; tags go to the example's bare git remote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.cli import main
from tests.fakegithub.server import FakeGitHub
from tests.release.helpers import LightRepo, gto_show, light_repo, remote_tag_names, run
from tests.release.records import write_record

REPO = "acme/models"
MODEL = "breast-cancer"
TOKEN = "ghs_test"


@pytest.fixture
def merged(
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[LightRepo, FakeGitHub, str, Path]:
    """Pull request #3 (candidate, by bob, label ml-ci:major) merged into main locally."""
    example_repo = light_repo(tmp_path / "light")
    root = example_repo.root
    run(["git", "checkout", "-q", "main"], root)
    run(["git", "merge", "-q", "--no-ff", "-m", "Merge #3", "candidate"], root)
    merge = run(["git", "rev-parse", "HEAD"], root)
    gh = fake_github
    gh.add_token(TOKEN, "github-actions[bot]", app=True)
    pull = gh.add_pull(
        REPO,
        3,
        head_sha=example_repo.candidate_sha,
        user="bob",
        merged=True,
        labels=["ml-ci:major"],
    )
    pull["merge_commit_sha"] = merge
    # the fake's label has description null, which GitHub's schema for simple pulls forbids
    pull["labels"][0]["description"] = "major version bump"
    gh.add_collaborator(REPO, "alice", "write")
    record = tmp_path / "record.json"
    write_record(root, example_repo.candidate_sha, record, pull_request=3)
    monkeypatch.chdir(root)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    return example_repo, gh, merge, record


def release(capsys: pytest.CaptureFixture[str], record: Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["release", "--record", str(record), "--json"])
    out, err = capsys.readouterr()
    return code, out, err


def test_release_tags_and_publishes_once(
    merged: tuple[LightRepo, FakeGitHub, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, gh, merge, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    code, out, err = release(capsys, record)
    assert code == 0, err
    result = json.loads(out)
    assert result["version"] == "v1.0.0"  # the ml-ci:major label
    assert result["tags"] == [f"{MODEL}@v1.0.0", f"{MODEL}#canary#1"]
    assert result["approved_by"] == ["alice"] and result["pull_request"] == 3
    assert set(result["tags"]) <= remote_tag_names(repo.git_remote)
    assert run(["git", "rev-parse", f"{MODEL}@v1.0.0^{{commit}}"], repo.git_remote) == merge
    assert gto_show(repo.root)[MODEL]["stage"] == {"canary": "v1.0.0"}
    (published,) = gh.releases(REPO)
    assert published["tag_name"] == f"{MODEL}@v1.0.0"
    assert "approved by alice" in published["body"]
    assets = {a["name"]: a["id"] for a in published["assets"]}
    assert set(assets) == {"ml-ci-record.json", "canary-manifest.json", "MODEL_CARD.md"}
    manifest = json.loads(gh.asset_bytes(REPO, assets["canary-manifest.json"]))
    assert manifest["version"] == "v1.0.0" and manifest["canary_traffic"] == 0.1
    uploaded = json.loads(gh.asset_bytes(REPO, assets["ml-ci-record.json"]))
    assert uploaded["governance"]["decisions"][0]["actor"] == "alice"

    before = remote_tag_names(repo.git_remote)
    code, out, err = release(capsys, record)  # a rerun for the same merge
    assert code == 0, err
    assert json.loads(out)["created"] is False
    assert remote_tag_names(repo.git_remote) == before
    assert len(gh.releases(REPO)) == 1 and len(gh.releases(REPO)[0]["assets"]) == 3


@pytest.mark.parametrize("case", ["fork", "old-sha", "author", "stale-record"])
def test_release_refuses_untrusted_merges(
    merged: tuple[LightRepo, FakeGitHub, str, Path],
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    repo, gh, _, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    expected = "governance not satisfied"
    if case == "fork":
        gh.repos[REPO].pulls[3]["head"]["repo"]["full_name"] = "mallory/models"
        expected = "comes from the fork mallory/models"
    elif case == "old-sha":
        gh.repos[REPO].reviews[3][0]["commit_id"] = repo.main_sha
    elif case == "author":
        gh.add_collaborator(REPO, "bob", "admin")
        gh.repos[REPO].reviews[3].clear()
        gh.add_review(REPO, 3, "bob", "APPROVED")
    else:
        write_record(repo.root, repo.main_sha, record, pull_request=3)
        expected = "evaluate the final head"
    code, _, err = release(capsys, record)
    assert code == 1 and expected in err, err
    assert not any(name.startswith(MODEL) for name in remote_tag_names(repo.git_remote))
    assert gh.releases(REPO) == []
