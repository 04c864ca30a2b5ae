"""Registry state from real git tags, checked against the real ``gto`` at every step."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.errors import InputError
from ml_ci.registry import ModelState, load_registry, read_tags, version_at_stage
from ml_ci.release.apply import apply_tags
from ml_ci.release.gitops import NewTag
from ml_ci.release.promote import AssignSettings, promote, rollback
from ml_ci.release.release import release_planner
from tests.release.helpers import (
    clone,
    commit,
    config,
    gto_history,
    gto_show,
    gto_stages,
    init_repo,
    remote_tag_names,
    run,
)

MODEL = "churn"


def release_at(root: Path, sha: str, bump: str = "minor", push: bool = True) -> list[NewTag]:
    plan = release_planner(MODEL, sha, "canary", bump, {"verdict": "pass"})  # type: ignore[arg-type]
    return apply_tags(root, MODEL, plan, push=push)


def ours(root: Path) -> ModelState:
    return load_registry(root)[MODEL]


def assert_agrees_with_gto(root: Path) -> dict[str, str]:
    """ml-ci's stages and latest version equal gto's; returns the stages."""
    state = ours(root)
    stages = {stage: holder.version for stage, holder in state.stages.items()}
    shown = gto_show(root)[MODEL]
    assert stages == shown["stage"]
    assert state.latest == shown["version"]
    return stages


def settings(root: Path, stage: str, version: str | None = None) -> AssignSettings:
    return AssignSettings(root=root, config=config(), model=MODEL, stage=stage, version=version)


def test_release_promote_rollback_agree_with_gto_at_every_step(tmp_path: Path) -> None:
    root, bare = init_repo(tmp_path)
    first = commit(root, "model 1")
    new = release_at(root, first)
    assert [t.name for t in new] == ["churn@v0.1.0", "churn#canary#1"]
    assert {"churn@v0.1.0", "churn#canary#1"} <= remote_tag_names(bare)
    assert_agrees_with_gto(root)

    done = promote(settings(root, "production"))
    assert (done.version, done.tags) == ("v0.1.0", ["churn#production#2"])
    assert_agrees_with_gto(root)

    second = commit(root, "model 2")
    assert [t.name for t in release_at(root, second)] == ["churn@v0.2.0", "churn#canary#3"]
    assert assert_agrees_with_gto(root) == {"canary": "v0.2.0", "production": "v0.1.0"}

    done = promote(settings(root, "production"))
    assert (done.previous, done.version) == ("v0.1.0", "v0.2.0")
    assert assert_agrees_with_gto(root)["production"] == "v0.2.0"

    back = rollback(settings(root, "production"))
    assert (back.previous, back.version, back.tags) == ("v0.2.0", "v0.1.0", ["churn#production#5"])
    assert assert_agrees_with_gto(root)["production"] == "v0.1.0"
    assert version_at_stage(root, MODEL, "production") == ("v0.1.0", first)
    # gto's history lists every event ml-ci wrote, newest first
    refs = [event["ref"] for event in gto_history(root, MODEL)]
    assert refs[0] == "churn#production#5"
    assert set(refs) >= {"churn@v0.1.0", "churn@v0.2.0", "churn#production#4"}


def test_tags_written_within_one_second_get_increasing_dates(tmp_path: Path) -> None:
    root, _ = init_repo(tmp_path)
    sha = commit(root, "model")
    release_at(root, sha, push=False)
    promote(AssignSettings(root=root, config=config(), model=MODEL, stage="prod", push=False))
    promote(AssignSettings(root=root, config=config(), model=MODEL, stage="staging", push=False))
    times = [tag.time for tag in read_tags(root)]
    assert len(times) == 4
    assert times == sorted(times) and len(set(times)) == 4  # strictly increasing
    assert_agrees_with_gto(root)


def test_rerun_for_the_same_commit_creates_nothing(tmp_path: Path) -> None:
    root, bare = init_repo(tmp_path)
    sha = commit(root, "model")
    release_at(root, sha)
    before = remote_tag_names(bare)
    assert release_at(root, sha) == []
    assert remote_tag_names(bare) == before
    assert promote(settings(root, "canary")).created is False


def test_a_missing_stage_tag_is_completed_on_rerun(tmp_path: Path) -> None:
    root, _ = init_repo(tmp_path)
    sha = commit(root, "model")
    only_version = [NewTag("churn@v0.1.0", sha, "register\n")]
    apply_tags(root, MODEL, lambda state, names: [] if state else only_version)
    assert [t.name for t in release_at(root, sha)] == ["churn#canary#1"]
    assert gto_stages(root, MODEL) == {"canary": "v0.1.0"}


def test_two_merges_racing_get_different_versions(tmp_path: Path) -> None:
    root_a, bare = init_repo(tmp_path)
    root_b = clone(bare, tmp_path / "b")
    sha_a = commit(root_a, "merge A")
    run(["git", "push", "-q", "origin", "main"], root_a)
    run(["git", "pull", "-q", "origin", "main"], root_b)
    sha_b = commit(root_b, "merge B")
    inner = release_planner(MODEL, sha_b, "canary", "minor", {})
    calls: list[str] = []

    def plan_b(state: ModelState | None, names: list[str]) -> list[NewTag]:
        if not calls:  # A wins the race between B's fetch and B's push
            release_at(root_a, sha_a)
        planned = inner(state, names)
        calls.append(planned[0].name)
        return planned

    new = apply_tags(root_b, MODEL, plan_b)
    assert calls == ["churn@v0.1.0", "churn@v0.2.0"]  # rejected once, then the next version
    assert [t.name for t in new] == ["churn@v0.2.0", "churn#canary#2"]
    tags = {t.name: t.commit for t in read_tags(root_b)}
    assert tags["churn@v0.1.0"] == sha_a and tags["churn@v0.2.0"] == sha_b
    run(["git", "fetch", "-q", "origin", "refs/tags/*:refs/tags/*"], root_a)
    assert gto_stages(root_a, MODEL) == {"canary": "v0.2.0"}
    assert_agrees_with_gto(root_b)


def test_a_tag_on_another_commit_is_never_overwritten(tmp_path: Path) -> None:
    root, bare = init_repo(tmp_path)
    other = clone(bare, tmp_path / "other")
    sha = commit(root, "model")
    release_at(root, sha)
    # a local tag of the same name on a different commit: fetching must not clobber it
    run(["git", "tag", "-a", "-m", "mine", "churn@v0.1.0", "HEAD"], other)
    with pytest.raises(InputError, match="never overwritten"):
        apply_tags(other, MODEL, release_planner(MODEL, sha, "canary", "minor", {}))
    assert run(["git", "rev-parse", "churn@v0.1.0^{commit}"], bare) == sha


def test_version_at_stage_errors_clearly_when_the_stage_is_empty(tmp_path: Path) -> None:
    root, _ = init_repo(tmp_path)
    release_at(root, commit(root, "model"))
    with pytest.raises(InputError, match="no version of model 'churn' is at stage 'production'"):
        version_at_stage(root, MODEL, "production")


def test_rollback_without_history_is_an_input_error(tmp_path: Path) -> None:
    root, _ = init_repo(tmp_path)
    release_at(root, commit(root, "model"))
    with pytest.raises(InputError, match="nothing to roll back to"):
        rollback(settings(root, "canary"))


def test_lightweight_and_foreign_tags_are_ignored_like_gto(tmp_path: Path) -> None:
    root, _ = init_repo(tmp_path)
    sha = commit(root, "model")
    release_at(root, sha, push=False)
    run(["git", "tag", "churn@v9.0.0"], root)  # lightweight: GTO ignores it
    run(["git", "tag", "-a", "-m", "x", "release-2024"], root)
    assert list(ours(root).versions) == ["v0.1.0"]
    assert_agrees_with_gto(root)
