"""A release completes or resumes: faults after the tags are pushed and the GitHub release is
created never leave a half release that a rerun cannot finish (fake GitHub, real git)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakegithub.server import FakeGitHub
from tests.release.helpers import LightRepo, remote_tag_names
from tests.release.test_release_github import REPO, merged, release  # noqa: F401

Merged = tuple[LightRepo, FakeGitHub, str, Path]
ASSETS = {"ml-ci-record.json", "canary-manifest.json", "MODEL_CARD.md"}
UPLOADS = r"/releases/\d+/assets$"


def assets_of(gh: FakeGitHub) -> list[dict[str, object]]:
    (published,) = gh.releases(REPO)
    return list(published["assets"])


def test_a_lost_upload_answer_still_completes_the_release(
    merged: Merged,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, gh, _, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    gh.faults(script=["lost"], method="POST", match=UPLOADS)
    code, _out, err = release(capsys, record)
    assert code == 0, err
    names = sorted(str(a["name"]) for a in assets_of(gh))
    assert names == sorted(ASSETS)  # each exactly once


def test_a_rerun_completes_a_release_whose_uploads_failed(
    merged: Merged,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, gh, _, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    gh.faults(script=["500"] * 6, method="POST", match=UPLOADS)
    code, out, err = release(capsys, record)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert "500" in lines[-1] and "rerun" in lines[-1]
    tags = remote_tag_names(repo.git_remote)
    assert tags and len(gh.releases(REPO)) == 1  # tagged and created, assets missing
    (first,) = gh.releases(REPO)
    gh.clear_faults()
    code, out, err = release(capsys, record)
    assert code == 0, err
    assert json.loads(out)["created"] is False and remote_tag_names(repo.git_remote) == tags
    (again,) = gh.releases(REPO)
    assert again["id"] == first["id"]
    assert sorted(str(a["name"]) for a in again["assets"]) == sorted(ASSETS)


def test_a_partial_asset_is_replaced(
    merged: Merged,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, gh, _, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    assert release(capsys, record)[0] == 0
    broken = next(a for a in assets_of(gh) if a["name"] == "canary-manifest.json")
    with gh.lock:  # what GitHub shows for an upload that broke off: state "open"
        gh.repos[REPO].assets[int(str(broken["id"]))].update(state="open", size=3)
        gh.repos[REPO].asset_data[int(str(broken["id"]))] = b'{"v'
    code, _out, err = release(capsys, record)
    assert code == 0, err
    fixed = next(a for a in assets_of(gh) if a["name"] == "canary-manifest.json")
    assert fixed["id"] != broken["id"] and fixed["state"] == "uploaded"
    manifest = json.loads(gh.asset_bytes(REPO, int(str(fixed["id"]))))
    assert manifest["model"] == "breast-cancer"
    assert sorted(str(a["name"]) for a in assets_of(gh)) == sorted(ASSETS)


def test_a_500_creating_the_release_is_reported_as_that_500(
    merged: Merged,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, gh, _, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    gh.faults(script=["500"], method="POST", match=r"/releases$")
    code, _out, err = release(capsys, record)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("...")]
    assert len(lines) == 1 and "500" in lines[0] and "404" not in lines[0]
    assert gh.releases(REPO) == []
    code, _out, err = release(capsys, record)  # the rerun creates it
    assert code == 0, err
    assert sorted(str(a["name"]) for a in assets_of(gh)) == sorted(ASSETS)
