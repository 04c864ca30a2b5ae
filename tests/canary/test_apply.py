"""``ml-ci canary --apply``: promote and rollback paths against the contract-checked fake GitHub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ml_ci.logs.simulate import Profile, simulate_logs
from ml_ci.release.results import read_results
from tests.release.helpers import commit, config, gto_stages, init_repo

START = 1_780_000_000.0
HOURS = 4
REPO = "acme/churn"
CONFIG = """
model: {name: churn, path: models/model.pkl}
logs: {path: logs.parquet}
canary:
  interval: 10m
  min_duration: 1h
  max_duration: 4h
  min_requests: 500
  gates:
    - {metric: error_rate, margin: 0.01}
    - {metric: latency_p95_ms, margin: 0.1, relative: true}
"""


def _registry(tmp_path: Path) -> Path:
    """v0.1.0 in production, v0.2.0 in canary, tags on the bare origin."""
    from ml_ci.release.apply import apply_tags
    from ml_ci.release.promote import AssignSettings, promote
    from ml_ci.release.release import release_planner

    (tmp_path / "repo").mkdir()
    root, _ = init_repo(tmp_path / "repo")
    first = commit(root, "model 1")
    apply_tags(root, "churn", release_planner("churn", first, "canary", "minor", {}))
    promote(AssignSettings(root=root, config=config(), model="churn", stage="production"))
    second = commit(root, "model 2")
    apply_tags(root, "churn", release_planner("churn", second, "canary", "minor", {}))
    (root / "ml-ci.yaml").write_text(CONFIG, encoding="utf-8")
    return root


def _run(root: Path, gh: Any, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_canary"}
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", "canary", "--now", str(START + HOURS * 3600),
         "--apply", "--repo", REPO, "--json", *extra],
        cwd=root, env=env, capture_output=True, text=True,
    )  # fmt: skip


def _setup(tmp_path: Path, gh: Any, canary: Profile) -> Path:
    root = _registry(tmp_path)
    simulate_logs(
        root / "logs.parquet",
        start=START,
        duration=HOURS * 3600,
        requests=60_000,
        canary=("v0.2.0", canary),
        production=("v0.1.0", Profile()),
        outcomes=False,
        seed=3,
    )
    gh.add_token("ghs_canary", "github-actions[bot]", app=True)
    gh.add_repo(REPO)
    return root


def test_a_good_canary_is_promoted_once(tmp_path: Path, fake_github: Any) -> None:
    gh = fake_github
    root = _setup(tmp_path, gh, Profile())
    done = _run(root, gh)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["verdict"] == "promote"
    assert gto_stages(root, "churn")["production"] == "v0.2.0"
    [deployment] = gh.deployments(REPO)
    assert (deployment["environment"], deployment["ref"]) == ("production", "churn@v0.2.0")
    assert [s["state"] for s in deployment["statuses"]] == ["success"]
    assert gh.issues(REPO) == []  # nothing to report
    commit_of = subprocess.run(
        ["git", "rev-list", "-n1", "churn@v0.2.0"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    [stored] = read_results(root, commit_of, "canary")
    assert stored["verdict"] == "promote" and stored["looks"]
    # the next scheduled run: the canary stage is production's version now -> idle, nothing new
    again = _run(root, gh)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["verdict"] == "idle"
    assert len(gh.deployments(REPO)) == 1 and len(read_results(root, commit_of)) == 1


@pytest.mark.parametrize("faults", [False, True], ids=["clean", "api-faults"])
def test_a_slow_canary_is_rolled_back_with_one_incident(
    tmp_path: Path, fake_github: Any, faults: bool
) -> None:
    gh = fake_github
    root = _setup(tmp_path, gh, Profile(latency_median_ms=135.0))  # p95 +35 %
    if faults:  # every third API call fails once (5xx, lost answers, rate limits), seeded
        gh.faults(rate=0.33, seed=5, kinds=("500", "502", "lost", "secondary"))
    done = _run(root, gh)
    assert done.returncode == 1, done.stderr  # exit 1 on rollback
    payload = json.loads(done.stdout)
    assert payload["verdict"] == "rollback"
    latency = next(g for g in payload["gates"] if g["metric"] == "latency_p95_ms")
    assert latency["status"] == "worse" and latency["lower"] > 0
    stages = gto_stages(root, "churn")
    assert stages["production"] == "v0.1.0"  # production untouched
    assert stages.get("canary") != "v0.2.0"  # the canary stage was taken away
    gh.clear_faults()
    issues = gh.issues(REPO)
    assert len(issues) == 1 and "rollback.md" in issues[0]["body"]
    assert [d["environment"] for d in gh.deployments(REPO)] == ["canary"]
    assert gh.deployments(REPO)[0]["statuses"][-1]["state"] == "failure"
    # a rerun of the same verdict (explicit versions: the registry now says idle) changes nothing
    again = _run(root, gh, "--canary", "v0.2.0", "--production", "v0.1.0")
    assert again.returncode == 1
    assert len(gh.issues(REPO)) == 1 and len(gh.deployments(REPO)) == 1


def test_apply_on_a_fresh_clone_stores_no_second_copy_of_the_same_verdict(
    tmp_path: Path, fake_github: Any
) -> None:
    """The workflow's checkout has no ``refs/notes/ml-ci``: the stored verdicts to compare with
    are the remote's, so a scheduled rerun on a fresh clone adds no second line."""
    import shutil

    from ml_ci.release.results import REF
    from tests.release.helpers import clone
    from tests.release.helpers import run as git

    gh = fake_github
    root = _setup(tmp_path, gh, Profile(latency_median_ms=135.0))
    git(["git", "push", "-q", "origin", "main", "--tags"], root)
    stored = []
    for name in ("first", "second"):
        checkout = clone(tmp_path / "repo" / "origin.git", tmp_path / name)
        (checkout / "ml-ci.yaml").write_text(CONFIG, encoding="utf-8")
        shutil.copy(root / "logs.parquet", checkout / "logs.parquet")
        done = _run(checkout, gh, "--canary", "v0.2.0", "--production", "v0.1.0")
        assert done.returncode == 1, done.stderr
        payload = json.loads(done.stdout)
        assert payload["verdict"] == "rollback"
        stored.append(payload["applied"]["stored"])
    assert stored == [True, False]
    fresh = clone(tmp_path / "repo" / "origin.git", tmp_path / "fresh")
    git(["git", "fetch", "-q", "origin", f"{REF}:{REF}"], fresh)
    commit_of = git(["git", "rev-list", "-n1", "churn@v0.2.0"], fresh).strip()
    assert len(read_results(fresh, commit_of, "canary")) == 1
