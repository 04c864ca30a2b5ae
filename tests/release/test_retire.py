"""Unassign a stage and retire a version: real git tags, read back by the real ``gto``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci.errors import InputError
from ml_ci.registry import load_registry
from ml_ci.release.apply import apply_tags
from ml_ci.release.promote import AssignSettings, promote
from ml_ci.release.release import release_planner
from ml_ci.release.retire import retire, unassign
from tests.release.helpers import GTO, commit, config, gto_stages, init_repo, remote_tag_names

MODEL = "churn"


def _two_versions(tmp_path: Path) -> tuple[Path, Path]:
    """v0.1.0 in production, v0.2.0 in canary."""
    root, bare = init_repo(tmp_path)
    first = commit(root, "model 1")
    apply_tags(root, MODEL, release_planner(MODEL, first, "canary", "minor", {}))
    promote(AssignSettings(root=root, config=config(), model=MODEL, stage="production"))
    second = commit(root, "model 2")
    apply_tags(root, MODEL, release_planner(MODEL, second, "canary", "minor", {}))
    assert gto_stages(root, MODEL) == {"canary": "v0.2.0", "production": "v0.1.0"}
    return root, bare


def _gto_versions(root: Path) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [GTO, "show", MODEL, "--json"], cwd=root, capture_output=True, text=True, check=True
    )
    return {row["version"]: row for row in json.loads(done.stdout)}


def test_unassign_takes_the_canary_away_and_leaves_production(tmp_path: Path) -> None:
    root, bare = _two_versions(tmp_path)
    result = unassign(root, MODEL, "v0.2.0", "canary", reason="canary rolled back")
    assert result.unassigned == ["canary"] and result.tags[0].startswith("churn#canary!#")
    assert result.tags[0] in remote_tag_names(bare)
    # v0.2.0 no longer holds canary; GTO's "latest active assignment wins" gives the stage
    # back to v0.1.0, which still has its own canary assignment from its release (no new
    # assignment is written, unlike a rollback); production is untouched; ml-ci agrees
    stages = {s: h.version for s, h in load_registry(root)[MODEL].stages.items()}
    assert gto_stages(root, MODEL) == stages == {"canary": "v0.1.0", "production": "v0.1.0"}
    again = unassign(root, MODEL, "v0.2.0", "canary", reason="again")
    assert again.tags == [] and again.unassigned == []  # idempotent
    assert result.falls_to == {"canary": "v0.1.0"}  # said, so nobody is surprised


def test_retire_force_says_when_a_stage_falls_back_to_a_rolled_back_version(
    tmp_path: Path,
) -> None:
    """v0.2.0 promoted, then production rolled back to v0.1.0: retiring v0.1.0 with --force
    gives production back to v0.2.0 by GTO's rule (its assignment is the newest standing);
    the command says so, with the way to choose another."""
    from ml_ci.release.promote import rollback

    root, _ = _two_versions(tmp_path)
    (root / "ml-ci.yaml").write_text("model: {name: churn, path: models/model.pkl}\n")
    promote(AssignSettings(root=root, config=config(), model=MODEL, stage="production"))
    rollback(AssignSettings(root=root, config=config(), model=MODEL, stage="production"))
    assert gto_stages(root, MODEL)["production"] == "v0.1.0"
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "retire", "v0.1.0", "--reason", "old", "--force"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert gto_stages(root, MODEL)["production"] == "v0.2.0"
    assert "production now falls back to v0.2.0" in done.stdout, done.stdout
    assert "ml-ci promote --to production --version VERSION" in done.stdout


def test_retire_is_refused_while_the_version_holds_a_stage(tmp_path: Path) -> None:
    root, _ = _two_versions(tmp_path)
    with pytest.raises(InputError, match=r"holds production.*--force"):
        retire(root, MODEL, "v0.1.0", reason="superseded")
    assert load_registry(root)[MODEL].versions["v0.1.0"].active


def test_retire_force_unassigns_first_and_gto_reads_it(tmp_path: Path) -> None:
    root, bare = _two_versions(tmp_path)
    said: list[str] = []
    result = retire(
        root, MODEL, "0.1.0", reason="superseded by v0.2.0", force=True, progress=said.append
    )
    assert said == ["unassigning production from churn v0.1.0 first (--force)"]
    assert result.retired and result.unassigned == ["production"]
    assert result.tags[-1] == "churn@v0.1.0!" and set(result.tags) <= remote_tag_names(bare)
    state = load_registry(root)[MODEL]
    assert not state.versions["v0.1.0"].active and "production" not in state.stages
    # gto sees the version deregistered and the stage free
    assert gto_stages(root, MODEL) == {"canary": "v0.2.0"}
    assert {s: h.version for s, h in state.stages.items()} == {"canary": "v0.2.0"}
    shown = _gto_versions(root)
    assert "v0.1.0" not in shown or shown["v0.1.0"].get("registered") is False
    message = subprocess.run(
        ["git", "tag", "-l", "--format=%(contents)", "churn@v0.1.0!"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "reason: superseded by v0.2.0" in message
    assert retire(root, MODEL, "v0.1.0", reason="again", force=True).tags == []


def test_retire_needs_a_reason_and_a_known_version(tmp_path: Path) -> None:
    root, _ = _two_versions(tmp_path)
    with pytest.raises(InputError, match="--reason"):
        retire(root, MODEL, "v0.2.0", reason=" ")
    with pytest.raises(InputError, match=r"v9\.9\.9 is not a registered version"):
        retire(root, MODEL, "v9.9.9", reason="x")


def test_the_command_refuses_then_forces(tmp_path: Path) -> None:
    root, _ = _two_versions(tmp_path)
    (root / "ml-ci.yaml").write_text("model: {name: churn, path: models/model.pkl}\n")
    base = [sys.executable, "-m", "ml_ci", "retire", "v0.1.0", "--reason", "superseded"]
    refused = subprocess.run([*base, "--json"], cwd=root, capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().count("\n") == 0 and "--force" in refused.stderr
    done = subprocess.run([*base, "--force", "--json"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["retired"] is True and payload["unassigned"] == ["production"]


def test_registry_show_lists_results_and_versions_due_for_retirement(tmp_path: Path) -> None:
    from ml_ci.release.results import append_result

    root, _ = _two_versions(tmp_path)
    from ml_ci.release.promote import AssignSettings, promote

    promote(AssignSettings(root=root, config=config(), model=MODEL, stage="production"))
    state = load_registry(root)[MODEL]
    first, second = state.versions["v0.1.0"], state.versions["v0.2.0"]
    append_result(root, second.commit, "canary", {"verdict": "promote", "decided_at": "x"}, now=5)
    (root / "ml-ci.yaml").write_text(
        "model: {name: churn, path: models/model.pkl}\n"
        "governance: {retire_after: {superseded: 30d}}\n"
    )
    production_since = state.stages["production"].assigned_at
    show = [sys.executable, "-m", "ml_ci", "registry", "show", "--json", "--now"]

    def versions(now: float) -> dict[str, dict[str, object]]:
        done = subprocess.run([*show, str(now)], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)["models"][MODEL]["versions"]
        return {row["version"]: row for row in rows}

    soon = versions(production_since + 86_400)
    assert soon["v0.1.0"]["retire_due"] is None  # superseded for one day only
    assert soon["v0.2.0"]["results"] == {
        "count": 1,
        "canary": {"verdict": "promote", "decided_at": "x"},
        "monitor": None,
    }
    later = versions(production_since + 31 * 86_400)
    assert "superseded in production 31 days ago" in str(later["v0.1.0"]["retire_due"])
    assert later["v0.2.0"]["retire_due"] is None  # it holds production
    assert first.commit != second.commit
