"""End to end: the drift-watch workflow template, run on a schedule by a real runner (act).

A copy of the example project gets, on ``main``, a "production snapshot" where the template
expects it (``data/production/latest.csv``, DVC-tracked: the candidate branch's training data,
with the example's planted ``mean_texture`` shift) and ``ml-ci init --drift``, nothing edited;
both are committed and pushed (a scheduled run uses the default branch as pushed). Then:

1. a scheduled run finds significant drift -> one issue asking for a human, labelled, no
   retraining;
2. the next scheduled run updates that issue (never a second one);
3. with a laxer ``significant`` threshold the same drift is only worth retraining -> the
   retraining workflow is dispatched and the issue is left alone;
4. with thresholds nothing reaches, the verdict is pass -> the drift incident is closed with a
   "recovered" comment.

The issue is the shared drift incident (:mod:`ml_ci.github.incidents`) of the model; the
record names no release, so its version is ``-``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from ml_ci.dvcrepo import run_dvc
from ml_ci.example import ExampleRepo
from ml_ci.github.incidents import IncidentKey
from tests.e2e import events
from tests.e2e.runner import act_for_example, ml_ci_init, tail
from tests.fakegithub.server import FakeGitHub
from tests.pack.snapshot import commit_all

REPO = events.REPO
WORKFLOW = ".github/workflows/drift-watch.yml"


@pytest.mark.slow
def test_drift_watch_under_act(
    example_repo: ExampleRepo, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    repo = example_repo.root
    shifted = (repo / "data" / "train.csv").read_bytes()  # candidate is checked out
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    snapshot = repo / "data" / "production" / "latest.csv"
    snapshot.parent.mkdir()
    snapshot.write_bytes(shifted)
    run_dvc(["add", "-q", "data/production/latest.csv"], repo)
    run_dvc(["push", "-q"], repo)
    assert WORKFLOW in ml_ci_init(repo, "--drift")
    commit_all(repo, "Add ml-ci, its drift watch and the production snapshot")
    gh = fake_github
    act = act_for_example(example_repo, gh, tmp_path, REPO)
    act.push("main")
    payload = events.write(events.schedule("17 5 * * *"), tmp_path / "schedule.json")
    marker = IncidentKey("breast-cancer", "-", "drift").marker

    # --- 1. significant drift: one issue for a human, labelled; nothing retrains
    first = act.run("schedule", "drift-watch.yml", payload)
    assert first.returncode == 0, tail(first)
    (issue,) = gh.issues(REPO)
    assert marker in issue["body"] and "`mean_texture`" in issue["body"], issue["body"]
    assert [label["name"] for label in issue["labels"]] == ["drift"]
    assert gh.dispatches(REPO) == []

    # --- 2. the next day: the same issue is updated, not duplicated
    second = act.run("schedule", "drift-watch.yml", payload)
    assert second.returncode == 0, tail(second)
    assert [i["number"] for i in gh.issues(REPO)] == [issue["number"]]
    writes = [(r.method, r.path) for r in gh.requests if r.method in ("POST", "PATCH")]
    assert writes == [
        ("POST", f"/repos/{REPO}/issues"),
        ("PATCH", f"/repos/{REPO}/issues/{issue['number']}"),
    ]

    # --- 3. a laxer "needs a person" level: the same drift only asks for retraining
    config = repo / "ml-ci.yaml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["drift"]["method_thresholds"] = {"wasserstein": {"retrain": 0.1, "significant": 5.0}}
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    commit_all(repo, "Only retrain on this drift")
    act.push("main")
    third = act.run("schedule", "drift-watch.yml", payload)
    assert third.returncode == 0, tail(third)
    assert [(d["workflow"], d["ref"]) for d in gh.dispatches(REPO)] == [("retrain.yml", "main")]
    assert [i["state"] for i in gh.issues(REPO)] == ["open"]

    # --- 4. thresholds this drift does not reach: pass, the incident is closed as recovered
    settings["drift"]["method_thresholds"] = {"wasserstein": {"retrain": 50.0, "significant": 99.0}}
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    commit_all(repo, "Accept this drift")
    act.push("main")
    fourth = act.run("schedule", "drift-watch.yml", payload)
    assert fourth.returncode == 0, tail(fourth)
    assert [i["state"] for i in gh.issues(REPO)] == ["closed"]
    (comment,) = gh.comments(REPO, issue["number"])
    assert comment["body"].startswith("Recovered"), comment["body"]
    assert len(gh.dispatches(REPO)) == 1
