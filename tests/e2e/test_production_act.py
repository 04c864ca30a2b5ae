"""End to end: the canary and monitor workflow templates (``ml-ci init --live``) under act.

A copy of the example adopts ml-ci with ``ml-ci init --live`` on ``main``; v0.1.0 (main's
model) is in production and v0.2.0 (the candidate's) in canary, tagged and pushed as the
release flow leaves them. The serving logs are DVC-tracked at ``logs.path`` and pushed, as a
team's logging job would leave them; each scheduled run reads what was pushed.

1. canary, the canary is slow, GitHub answers a third of the calls with faults: the workflow
   takes the canary stage away (production untouched), opens exactly one incident and records a
   ``failure`` deployment of the canary;
2. canary again after the fix (v0.2.0 back in canary, healthy logs): promoted to production,
   a ``success`` deployment, the incident closed;
3. monitor on a clean hour: nothing; a sharp latency regression: production rolled back
   (``monitor.rollback: auto``) and one incident; the next scheduled run: no duplicate, no
   second rollback. Every monitor run, the paging one too, writes the dashboard: uploaded as
   the ``ml-ci-dashboard`` artifact (the upload stand-in's folder) and a table in the job
   summary.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ml_ci.dvcrepo import run_dvc
from ml_ci.example import ExampleRepo
from ml_ci.logs.simulate import Profile, simulate_logs
from tests.e2e import events
from tests.e2e.runner import Act, act_for_example, ml_ci_init, tail
from tests.fakegithub.server import FakeGitHub
from tests.pack.snapshot import commit_all

REPO = events.REPO
MODEL = "breast-cancer"
HEALTHY = Profile(error_rate=0.002, accuracy=0.95)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _ml_ci(repo: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", *args], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _remote_stages(bare: Path) -> dict[str, str]:
    """Stages as the pushed tags say (a fresh clone of the remote, read by ml-ci)."""
    clone = bare.parent / f"stages-{time.monotonic_ns()}"
    _git(bare.parent, "clone", "-q", str(bare), str(clone))
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "registry", "show", "--json"],
        cwd=clone, capture_output=True, text=True, check=True,
    )  # fmt: skip
    model = json.loads(done.stdout)["models"][MODEL]
    return {stage: holder["version"] for stage, holder in model["stages"].items()}


def _dashboard(act: Act, done: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """The dashboard page the run uploaded and the job summary its steps wrote (act prints
    each step's ``$GITHUB_STEP_SUMMARY`` after the step as ``Summary - <text>``, up to the
    next log line, then deletes the file)."""
    page = act.artifacts / "ml-ci-dashboard" / "index.html"
    assert page.is_file(), tail(done)
    summaries = re.findall(r"Summary - (.*?)(?=^\[)", done.stdout + done.stderr, re.M | re.S)
    return page.read_text(encoding="utf-8"), "\n".join(summaries)


def _logs(repo: Path, **kwargs: object) -> None:
    """Write the serving logs at logs.path, DVC-track them, commit and push (data + git)."""
    config = yaml.safe_load((repo / "ml-ci.yaml").read_text())
    path = repo / config["logs"]["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    now = time.time() - 120
    simulate_logs(path, requests=120_000, outcomes=False, label_delay=600.0, **kwargs)  # type: ignore[arg-type]
    run_dvc(["add", "-q", str(path.relative_to(repo))], repo)
    run_dvc(["push", "-q"], repo)
    commit_all(repo, f"serving logs until {now:.0f}")


@pytest.mark.slow
def test_canary_and_monitor_workflows_under_act(
    example_repo: ExampleRepo, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    repo = example_repo.root
    candidate = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "main")
    written = ml_ci_init(repo, "--live")
    assert {".github/workflows/ml-ci-canary.yml", ".github/workflows/ml-ci-monitor.yml"} <= set(
        written
    )
    config = yaml.safe_load((repo / "ml-ci.yaml").read_text())
    # the example's production loop settings (logs, canary, monitor), rollback on a page
    example = yaml.safe_load(
        (Path(__file__).parents[2] / "examples/breast-cancer/ml-ci.yaml").read_text()
    )
    config.update({k: example[k] for k in ("logs", "canary", "monitor")})
    config["monitor"]["rollback"] = "auto"
    config["monitor"]["objectives"] = [{"metric": "latency_p95_ms", "max": 250}]
    (repo / "ml-ci.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    commit_all(repo, "Add ml-ci with its production loop")
    # the registry as the release flow leaves it: v0.1.0 in production, v0.2.0 in canary
    from ml_ci.release.apply import apply_tags
    from ml_ci.release.release import release_planner

    main_sha = _git(repo, "rev-parse", "HEAD")
    apply_tags(repo, MODEL, release_planner(MODEL, main_sha, "canary", "minor", {}), push=False)
    _ml_ci(repo, "promote", "--to", "production", "--no-push")
    apply_tags(repo, MODEL, release_planner(MODEL, candidate, "canary", "minor", {}), push=False)
    gh = fake_github
    act = act_for_example(example_repo, gh, tmp_path, REPO)
    now = time.time()
    _logs(
        repo,
        start=now - 4 * 3600,
        duration=4 * 3600 - 120,
        canary=("v0.2.0", Profile(error_rate=0.002, latency_median_ms=140.0)),
        production=("v0.1.0", HEALTHY),
        traffic=0.1,
        seed=1,
    )
    act.push("main", "--tags")
    bare = example_repo.git_remote
    assert _remote_stages(bare) == {"canary": "v0.2.0", "production": "v0.1.0"}
    schedule = events.write(events.schedule("*/10 * * * *"), tmp_path / "schedule.json")

    # --- 1. a slow canary, with GitHub failing a third of the calls: rolled back, one incident
    gh.faults(rate=0.33, seed=3, kinds=("500", "502", "lost"))
    first = act.run("schedule", "ml-ci-canary.yml", schedule)
    gh.clear_faults()
    assert first.returncode != 0, tail(first)  # exit 1 on rollback: the run shows red
    assert "rollback" in first.stdout, tail(first)
    stages = _remote_stages(bare)
    assert stages["production"] == "v0.1.0" and stages.get("canary") != "v0.2.0", stages
    open_issues = [i for i in gh.issues(REPO) if i["state"] == "open"]
    assert len(open_issues) == 1 and "rollback.md" in open_issues[0]["body"]
    (deployment,) = gh.deployments(REPO)
    assert (deployment["environment"], deployment["ref"]) == ("canary", f"{MODEL}@v0.2.0")
    assert deployment["statuses"][-1]["state"] == "failure"

    # --- 2. after the fix: back in canary, healthy traffic -> promoted, incident closed
    _git(repo, "fetch", "-q", "--tags", "origin")
    _ml_ci(repo, "promote", "--to", "canary", "--version", "v0.2.0")
    now = time.time()
    _logs(
        repo,
        start=now - 4 * 3600,
        duration=4 * 3600 - 120,
        canary=("v0.2.0", HEALTHY),
        production=("v0.1.0", HEALTHY),
        traffic=0.1,
        seed=2,
    )
    act.push("main")
    second = act.run("schedule", "ml-ci-canary.yml", schedule)
    assert second.returncode == 0, tail(second)
    assert _remote_stages(bare)["production"] == "v0.2.0"
    assert [i["state"] for i in gh.issues(REPO)] == ["closed"]
    promoted = gh.deployments(REPO)[-1]
    assert (
        promoted["environment"] == "production" and promoted["statuses"][-1]["state"] == "success"
    )

    # --- 3. monitor: a clean window -> nothing
    hourly = events.write(events.schedule("23 * * * *"), tmp_path / "hourly.json")
    now = time.time()
    day = dict(start=now - 86_400, duration=86_400 - 120, traffic=0.0, seed=4)
    _logs(repo, canary=("unused", HEALTHY), production=("v0.2.0", HEALTHY), **day)
    act.push("main")
    clean = act.run("schedule", "ml-ci-monitor.yml", hourly)
    assert clean.returncode == 0, tail(clean)
    assert len(gh.issues(REPO)) == 1  # only the closed canary incident
    page, summary = _dashboard(act, clean)
    assert "<html" in page.lower() and MODEL in page
    assert "### ml-ci dashboard" in summary
    assert f"| `{MODEL}` | `production` | `v0.2.0` |" in summary, summary
    assert "| `latency_p95_ms` | none |" in summary and "Open incidents" not in summary, summary
    shutil.rmtree(act.artifacts / "ml-ci-dashboard")

    # a sharp latency regression in the last 90 minutes -> page: rollback + one incident
    slow = Profile(error_rate=0.002, latency_median_ms=600.0)
    _logs(
        repo,
        canary=("v0.1.0", HEALTHY),  # some traffic of the previous version, as after a rollback
        production=("v0.2.0", HEALTHY),
        incident=(now - 90 * 60, slow),
        **{**day, "traffic": 0.3, "seed": 5},
    )
    act.push("main")
    paged = act.run("schedule", "ml-ci-monitor.yml", hourly)
    assert paged.returncode != 0, tail(paged)  # exit 1 on a page
    assert _remote_stages(bare)["production"] == "v0.1.0"
    incidents = [i for i in gh.issues(REPO) if i["state"] == "open"]
    assert len(incidents) == 1 and "latency-regression.md" in incidents[0]["body"]
    # the dashboard still runs after the paging step failed, and lists the new incident
    page, summary = _dashboard(act, paged)
    assert "Open incidents: 1." in summary, summary
    assert f"#{incidents[0]['number']}" in page and "slo:latency_p95_ms" in page

    # the next scheduled run: production is v0.1.0 now (healthy): no duplicate, no rollback
    again = act.run("schedule", "ml-ci-monitor.yml", hourly)
    assert again.returncode == 0, tail(again)
    assert len([i for i in gh.issues(REPO) if i["state"] == "open"]) == 1
    assert _remote_stages(bare)["production"] == "v0.1.0"
