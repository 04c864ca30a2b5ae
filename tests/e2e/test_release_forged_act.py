"""End to end: a forged record artifact gets a truly worse model as far as an approved merge, and
the release still refuses it (GitHub's checkout semantics, tests/e2e/runner.py).

The pull request's author controls its record (a same-repository author edits the workflow or
the artifact; a fork's run is entirely the fork's), so the attack is as strong as it can be:

* the model is truly worse: trained with ``train.C = 0.001`` (accuracy drops by ~9 points on the
  example's test set), reproduced with ``dvc repro`` so dvc.lock names its real hash, pushed to
  the DVC remote;
* the committed predictions table is forged too (the baseline's own predictions, with dvc.lock's
  md5 and size patched to match), so anything that reads the committed table sees no change;
* the check's uploaded record is replaced by a forged one: reproduction verified, every gate
  passing, drift ``null``, the right head SHA and the model's real artifact hash.

The comment, the ml-ci/gates status and an approving review all follow the forged record (the
pull-request side can only report what the pull request's run claims). The release runs the
merged default branch's code: it must recompute the gates for the merged model (scored with
``predict.command``, never the committed table) and refuse: no tag on the remote, no GitHub
release.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml_ci.dvcrepo import dvc_env, file_md5, run_dvc
from ml_ci.example import ExampleRepo
from ml_ci.record import load_record
from ml_ci.repro import PINNED_ENV
from tests.e2e import events
from tests.e2e.runner import act_for_example, tail
from tests.fakegithub.server import FakeGitHub
from tests.pack.snapshot import commit_all

REPO = events.REPO
PR = 8
BRANCH = "cheaper-training"
WORSE_C = 0.001  # strong regularisation: a truly worse model on the example


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _statuses(gh: FakeGitHub, sha: str, context: str) -> list[str]:
    return [s["state"] for s in gh.statuses(REPO, sha) if s["context"] == context]


def _worse_model_with_forged_table(repo: Path) -> str:
    """Branch off main, train a worse model, commit the baseline's predictions in place of its
    own (dvc.lock patched to match); push git and DVC; the head SHA."""
    _git(repo, "checkout", "-q", "-b", BRANCH, "main")
    run_dvc(["checkout", "-q"], repo)
    baseline_table = (repo / "predictions.csv").read_bytes()
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["train"]["C"] = WORSE_C
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    run_dvc(["repro", "-q"], repo, env=dvc_env(PINNED_ENV))
    table = repo / "predictions.csv"
    assert table.read_bytes() != baseline_table, "the worse model predicts differently"
    table.write_bytes(baseline_table)
    lock_file = repo / "dvc.lock"
    lock = yaml.safe_load(lock_file.read_text(encoding="utf-8"))
    (out,) = [o for o in lock["stages"]["predict"]["outs"] if o["path"] == "predictions.csv"]
    out.update(md5=file_md5(table), size=table.stat().st_size)
    lock_file.write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")
    head = commit_all(repo, f"Cheaper training (C={WORSE_C})")
    run_dvc(["push", "-q"], repo)
    _git(repo, "push", "-q", "origin", BRANCH)
    return head


def _forge(honest: dict[str, Any], head: str) -> dict[str, Any]:
    """What the author uploads instead: everything passes, no drift, the right head."""
    forged = json.loads(json.dumps(honest))
    forged["repo"]["head_sha"] = head
    if forged.get("repro"):
        forged["repro"]["verdict"] = "verified"
    forged["compare"]["verdict"] = "pass"
    for gate in forged["compare"]["gates"]:
        gate["verdict"] = "pass"
    forged["drift"] = None
    forged["needs_human"] = False
    return forged


@pytest.mark.slow
def test_forged_record_of_a_worse_model_is_not_released(
    adopted: ExampleRepo, fake_github: FakeGitHub, ml_ci_snapshot: Path, tmp_path: Path
) -> None:
    repo, gh = adopted.root, fake_github
    act = act_for_example(adopted, gh, tmp_path, REPO, ml_ci=ml_ci_snapshot)
    base = act.origin.tip("main")
    head = _worse_model_with_forged_table(repo)
    gh.add_collaborator(REPO, "alice", "maintain")
    gh.add_pull(REPO, PR, head, "bob", head_ref=BRANCH, base_sha=base)
    payloads = tmp_path / "events"
    payloads.mkdir()

    # --- the pull request's own check: an honest run does not pass this model
    opened = events.pull_request("opened", PR, head, base, head_ref=BRANCH)
    check = act.run("pull_request", "ml-ci-pr.yml", events.write(opened, payloads / "pr.json"))
    assert act.checked_out[-1] == ("pull_request", act.origin.rev(f"refs/pull/{PR}/merge"))
    record_file = act.artifacts / "ml-ci-results" / "ml-ci-record.json"
    honest = json.loads(record_file.read_text(encoding="utf-8"))
    assert check.returncode != 0, tail(check)
    assert honest["compare"]["verdict"] == "fail", "the model is truly worse"
    assert honest["repro"]["verdict"] == "mismatch", "the forged table is not what it predicts"

    # --- the author replaces the artifact with a forged record (it loads: a valid record)
    record_file.write_text(json.dumps(_forge(honest, head)), encoding="utf-8")
    forged = load_record(record_file)
    assert forged.compare is not None and forged.compare.verdict == "pass"
    assert forged.drift is None and forged.repo.head_sha == head
    assert forged.artifact is not None and forged.artifact.hash == honest["artifact"]["hash"]

    # --- the pull-request side reports the claim; the approver approves it
    comment = act.run(
        "workflow_run",
        "ml-ci-comment.yml",
        events.write(
            events.workflow_run(2001, PR, head, "failure", head_ref=BRANCH), payloads / "wr.json"
        ),
    )
    assert comment.returncode == 0, tail(comment)
    assert len(gh.comments(REPO, PR)) == 1
    assert _statuses(gh, head, "ml-ci/gates"), gh.statuses(REPO, head)
    gh.add_review(REPO, PR, "alice", "APPROVED", commit_id=head)
    review = events.review(PR, head, base, "alice", head_ref=BRANCH)
    approvals = act.run(
        "pull_request_review",
        "ml-ci-approvals.yml",
        events.write(review, payloads / "rv.json"),
        env={"ML_CI_RECORD_RUN_ID": "2001"},
    )
    assert approvals.returncode == 0, tail(approvals)
    assert _statuses(gh, head, "ml-ci/governance")[0] == "success"

    # --- merge, push to main: the release recomputes and refuses -- no tag, no release
    merge = act.merge_pull(PR)
    release = act.run(
        "push",
        "ml-ci-release.yml",
        events.write(events.push(merge, base), payloads / "push.json"),
        env={"ML_CI_RECORD_RUN_ID": "2001"},
    )
    assert act.checked_out[-1] == ("push", merge)
    assert "Success - Main Download its record" in release.stdout, tail(release)
    tags = _git(adopted.git_remote, "tag", "--list").split()
    assert not [tag for tag in tags if tag.startswith("breast-cancer")], tags
    assert gh.releases(REPO) == [], "a GitHub release was created for a forged record"
    assert release.returncode != 0, tail(release)
    assert "Failure - Main Release the model" in release.stdout, tail(release)
    # refused for what the merged commit's recomputed gates say, not for the record's claims
    refusals = [line for line in release.stdout.splitlines() if "release refused" in line]
    assert any(f"recomputed at {merge[:7]}" in line and "accuracy" in line for line in refusals), (
        refusals or tail(release)
    )
