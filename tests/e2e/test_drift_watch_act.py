"""End to end: the drift-watch workflow template, run on a schedule by a real runner (act).

A copy of the example project gets ``ml-ci init --drift``; its owner points the watch at a
"production snapshot" (here the candidate branch's training data, with the example's planted
``mean_texture`` shift) and commits. Then:

1. a scheduled run finds significant drift -> one issue asking for a human, labelled, no
   retraining;
2. the next scheduled run updates that issue (never a second one);
3. with a laxer ``significant`` threshold the same drift is only worth retraining -> the
   retraining workflow is dispatched and the issue is left alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.drift.watch import MARKER
from ml_ci.example import ExampleRepo
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
    assert WORKFLOW in ml_ci_init(repo, "--drift")
    workflow = repo / WORKFLOW
    template = workflow.read_text(encoding="utf-8")
    # the owner's one edit: where the production snapshot lives (a DVC-tracked path)
    edited = template.replace(
        "ML_CI_CURRENT: data/production/latest.csv", "ML_CI_CURRENT: data/train.csv"
    )
    assert edited != template
    workflow.write_text(edited, encoding="utf-8")
    commit_all(repo, "Add ml-ci and its drift watch")
    gh = fake_github
    act = act_for_example(example_repo, gh, tmp_path, REPO)
    payload = events.write(events.schedule("17 5 * * *"), tmp_path / "schedule.json")
    marker = MARKER.format(model="breast-cancer")

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
    config.write_text(
        config.read_text(encoding="utf-8")
        + "  method_thresholds:\n    wasserstein: {retrain: 0.1, significant: 5.0}\n",
        encoding="utf-8",
    )
    commit_all(repo, "Only retrain on this drift")
    third = act.run("schedule", "drift-watch.yml", payload)
    assert third.returncode == 0, tail(third)
    assert [(d["workflow"], d["ref"]) for d in gh.dispatches(REPO)] == [("retrain.yml", "main")]
    assert len(gh.issues(REPO)) == 1
