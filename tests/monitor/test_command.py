"""``ml-ci monitor`` end to end on simulated serving logs (Parquet), through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
VERSION = "v0.2.0"


def write_logs(
    path: Path,
    *,
    days: int = 30,
    per_hour: int = 120,
    slow_share: float = 0.01,
    error_rate: float = 0.0002,
    accuracy: float = 0.92,
    labelled: float = 1.0,
    tail: dict[str, float] | None = None,
    tail_seconds: int = 0,
    seed: int = 0,
) -> Path:
    """``days`` of requests up to NOW; the last ``tail_seconds`` use the ``tail`` overrides."""
    rng = np.random.default_rng(seed)
    n = days * 24 * per_hour
    times = np.sort(rng.uniform(NOW - days * DAY, NOW, size=n))
    late = times >= NOW - tail_seconds
    params = {
        "slow_share": slow_share,
        "error_rate": error_rate,
        "accuracy": accuracy,
        "labelled": labelled,
    }
    values = {k: np.where(late, (tail or {}).get(k, v), v) for k, v in params.items()}
    slow = rng.random(n) < values["slow_share"]
    latency = np.where(slow, rng.uniform(300, 900, n), rng.uniform(20, 150, n))
    error = (rng.random(n) < values["error_rate"]).astype(np.int8)
    y_true = rng.integers(0, 2, n)
    right = rng.random(n) < values["accuracy"]
    y_pred = np.where(right, y_true, 1 - y_true)
    known = rng.random(n) < values["labelled"]
    table = pa.table(
        {
            "timestamp": pa.array((times * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
            "model_version": pa.array([VERSION] * n),
            "latency_ms": latency,
            "error": error,
            "y_pred": y_pred,
            "y_true": pa.array(np.where(known, y_true, 0), mask=~known),
        }
    )
    pq.write_table(table, path)
    return path


def _config(tmp_path: Path, objectives: list[dict[str, object]]) -> Path:
    path = tmp_path / "ml-ci.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "model": {"name": "churn", "path": "models/model.pkl"},
                "monitor": {"window": "30d", "objectives": objectives, "min_requests": 50},
            }
        )
    )
    return path


def _monitor(tmp_path: Path, logs: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(logs), "--version", VERSION,
         "--now", str(NOW), "--json", *extra],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip


OBJECTIVES = [
    {"metric": "latency_p95_ms", "max": 200},
    {"metric": "error_rate", "max": 0.001},
    {"metric": "accuracy", "min": 0.88},
]


def test_a_clean_month_raises_no_alert(tmp_path: Path) -> None:
    _config(tmp_path, OBJECTIVES)
    done = _monitor(tmp_path, write_logs(tmp_path / "logs.parquet"))
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["alert"] == "none"
    by_metric = {o["metric"]: o for o in payload["objectives"]}
    latency = by_metric["latency_p95_ms"]
    # 1 % slow against a 5 % budget: about a fifth of the budget spent
    assert 0.1 < latency["budget_spent"] < 0.35
    assert [b["threshold"] for b in latency["burn"]] == [14.4, 6.0, 3.0, 1.0]
    assert by_metric["accuracy"]["state"] == "ok" and by_metric["accuracy"]["coverage"] == 1.0


def test_a_sharp_latency_regression_in_the_last_90_minutes_pages(tmp_path: Path) -> None:
    # 90 % slow for 90 minutes: burn 0.9 / 0.05 = 18 > 14.4 over the last hour and the
    # last 5 minutes (100 requests each 5 minutes, above min_requests 50) -> page
    _config(tmp_path, OBJECTIVES)
    logs = write_logs(
        tmp_path / "logs.parquet",
        days=7,
        per_hour=1200,
        tail={"slow_share": 0.9},
        tail_seconds=90 * 60,
        seed=1,
    )
    done = _monitor(tmp_path, logs)
    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)
    latency = next(o for o in payload["objectives"] if o["metric"] == "latency_p95_ms")
    assert payload["alert"] == latency["alert"] == "page"
    fast = latency["burn"][0]
    assert fast["firing"] and fast["long_burn"] > 14.4 and fast["short_burn"] > 14.4
    errors = next(o for o in payload["objectives"] if o["metric"] == "error_rate")
    assert errors["alert"] == "none"


def test_a_slow_burn_for_three_days_tickets_not_pages(tmp_path: Path) -> None:
    # errors at 0.002 (burn 2) for three days: the 3 d / 6 h rule fires (threshold 1), the
    # 1 d / 2 h rule does not (threshold 3), neither page rule does (14.4, 6)
    _config(tmp_path, [{"metric": "error_rate", "max": 0.001}])
    logs = write_logs(
        tmp_path / "logs.parquet",
        per_hour=2000,
        days=10,
        tail={"error_rate": 0.002},
        tail_seconds=3 * DAY,
        seed=2,
    )
    done = _monitor(tmp_path, logs)
    assert done.returncode == 0, done.stderr
    errors = json.loads(done.stdout)["objectives"][0]
    assert errors["alert"] == "ticket"
    assert [b["firing"] for b in errors["burn"]] == [False, False, False, True]
    assert errors["burn"][3]["long_burn"] == pytest.approx(2, rel=0.1)


def test_accuracy_below_objective_with_half_the_outcomes_missing(tmp_path: Path) -> None:
    _config(tmp_path, [{"metric": "accuracy", "min": 0.88}])
    logs = write_logs(tmp_path / "logs.parquet", accuracy=0.85, labelled=0.5, seed=3)
    done = _monitor(tmp_path, logs)
    assert done.returncode == 0, done.stderr  # a ticket, not a page
    accuracy = json.loads(done.stdout)["objectives"][0]
    assert accuracy["alert"] == "ticket" and accuracy["state"] == "breached"
    assert accuracy["coverage"] == pytest.approx(0.5, abs=0.01)
    assert accuracy["value"] == pytest.approx(0.85, abs=0.01) and accuracy["upper"] < 0.88


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    _config(tmp_path, OBJECTIVES)
    logs = write_logs(tmp_path / "logs.parquet", days=2)
    done = _monitor(tmp_path, logs, "--version", "v9.9.9")
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]  # after the progress lines
    assert "version 'v9.9.9' is absent" in last and "versions present: v0.2.0" in last
    (tmp_path / "ml-ci.yaml").write_text(
        "model: {name: churn}\nmonitor: {objectives: [{metric: accuracy, max: 3}]}\n"
    )
    done = _monitor(tmp_path, logs)
    assert done.returncode == 2 and "monitor.objectives" in done.stderr


def test_export_rules_writes_what_promtool_accepts(tmp_path: Path) -> None:
    from tests.prometheus import need_prometheus

    _, promtool = need_prometheus()
    _config(tmp_path, OBJECTIVES)
    out = tmp_path / "rules.yml"
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--export-rules", str(out), "--json"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["objectives"] == ["latency_p95_ms", "error_rate"]
    check = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _registry(tmp_path: Path) -> Path:
    """A repository whose production stage went v0.1.0 -> v0.2.0 (tags pushed to origin)."""
    from ml_ci.release.apply import apply_tags
    from ml_ci.release.promote import AssignSettings, promote
    from ml_ci.release.release import release_planner
    from tests.release.helpers import commit, config, init_repo

    (tmp_path / "repo").mkdir()
    root, _ = init_repo(tmp_path / "repo")
    for name in ("v0.1.0", "v0.2.0"):
        sha = commit(root, f"model {name}")
        apply_tags(root, "churn", release_planner("churn", sha, "canary", "minor", {}))
        promote(AssignSettings(root=root, config=config(), model="churn", stage="production"))
    return root


def test_apply_pages_rolls_back_once_and_closes_on_recovery(
    tmp_path: Path, fake_github: Any
) -> None:
    from tests.release.helpers import gto_stages

    root = _registry(tmp_path)
    (root / "ml-ci.yaml").write_text(
        yaml.safe_dump(
            {
                "model": {"name": "churn", "path": "models/model.pkl"},
                "monitor": {
                    "objectives": [{"metric": "latency_p95_ms", "max": 200}],
                    "min_requests": 50,
                    "rollback": "auto",
                },
            }
        )
    )
    gh = fake_github
    gh.add_token("ghs_monitor", "github-actions[bot]", app=True)
    gh.add_repo("acme/churn")
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_monitor"}
    bad = write_logs(
        tmp_path / "bad.parquet", days=2, per_hour=1200, tail={"slow_share": 0.9},
        tail_seconds=90 * 60, seed=4,
    )  # fmt: skip
    args = [sys.executable, "-m", "ml_ci", "monitor", "--now", str(NOW), "--apply",
            "--repo", "acme/churn", "--json"]  # fmt: skip

    def run(logs: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*args, "--logs", str(logs), *extra], cwd=root, env=env, capture_output=True, text=True
        )

    first = run(bad)  # the version defaults to the registry's production: v0.2.0
    assert first.returncode == 1, first.stderr  # a page
    applied = json.loads(first.stdout)["applied"]
    assert applied["incidents"]["latency_p95_ms"]["action"] == "opened"
    assert applied["rolled_back"]["version"] == "v0.1.0" and applied["stored"] is True
    assert gto_stages(root, "churn")["production"] == "v0.1.0"
    issues = [i for i in gh.issues("acme/churn") if i["state"] == "open"]
    assert len(issues) == 1 and "latency-regression.md" in issues[0]["body"]
    assert "ghs_monitor" not in first.stdout + first.stderr

    # a rerun on v0.2.0's logs (e.g. a retried job): the same issue, no second rollback
    again = run(bad, "--version", "v0.2.0")
    applied = json.loads(again.stdout)["applied"]
    assert applied["incidents"]["latency_p95_ms"]["action"] == "updated"
    assert applied["rolled_back"] is None and applied["stored"] is False  # same state
    assert gto_stages(root, "churn")["production"] == "v0.1.0"
    assert len([i for i in gh.issues("acme/churn") if i["state"] == "open"]) == 1

    # recovered: the incident closes
    clean = write_logs(tmp_path / "clean.parquet", days=2, per_hour=1200, seed=5)
    recovered = run(clean, "--version", "v0.2.0")
    assert recovered.returncode == 0, recovered.stderr
    assert json.loads(recovered.stdout)["applied"]["incidents"]["latency_p95_ms"]["action"] == (
        "closed"
    )
    assert [i["state"] for i in gh.issues("acme/churn")] == ["closed"]
    from ml_ci.registry import load_registry
    from ml_ci.release.results import read_results

    commit_of = load_registry(root)["churn"].versions["v0.2.0"].commit
    assert [e["alert"] for e in read_results(root, commit_of, "monitor")] == ["page", "none"]


def test_a_bucket_that_does_not_divide_the_rules_windows_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ml-ci.yaml").write_text(
        "model: {name: churn}\n"
        "monitor: {bucket: 10m, objectives: [{metric: error_rate, max: 0.01}]}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "validate"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2 and "monitor: bucket 10m must divide 5m" in done.stderr


def test_now_in_the_past_ignores_the_later_rows(tmp_path: Path) -> None:
    """``--now`` a day before the logs end (a look back, as the docs' "as of --now"): the later
    rows are not yet known, not "in the future"; the result is that of logs cut at --now."""
    _config(tmp_path, OBJECTIVES)
    logs = write_logs(tmp_path / "logs.parquet")
    cut = pq.read_table(logs)
    stamps = pc.cast(cut["timestamp"], pa.int64()).to_numpy() / 1e6
    pq.write_table(cut.filter(pa.array(stamps <= NOW - DAY)), tmp_path / "cut.parquet")

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(path), "--version", VERSION,
             "--now", str(NOW - DAY), "--json"],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip

    looked_back, truncated = run(logs), run(tmp_path / "cut.parquet")
    assert truncated.returncode == 0, truncated.stderr
    assert looked_back.returncode == 0, looked_back.stderr
    assert (
        json.loads(looked_back.stdout)["objectives"] == json.loads(truncated.stdout)["objectives"]
    )


def test_apply_on_a_fresh_clone_stores_no_second_copy_of_the_same_state(
    tmp_path: Path, fake_github: Any
) -> None:
    """The workflow's checkout has no ``refs/notes/ml-ci``: the last stored result is the
    remote's, so an hourly run on a fresh clone that finds the same state adds no line."""
    from ml_ci.registry import load_registry
    from ml_ci.release.results import REF, read_results
    from tests.release.helpers import clone
    from tests.release.helpers import run as git

    root = _registry(tmp_path)
    git(["git", "push", "-q", "origin", "main", "--tags"], root)
    body = {
        "model": {"name": "churn", "path": "models/model.pkl"},
        "monitor": {"objectives": [{"metric": "latency_p95_ms", "max": 200}], "min_requests": 50},
    }
    gh = fake_github
    gh.add_token("ghs_monitor", "github-actions[bot]", app=True)
    gh.add_repo("acme/churn")
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_monitor"}
    logs = write_logs(tmp_path / "clean.parquet", days=2, per_hour=1200, seed=5)
    stored = []
    for name in ("first", "second"):
        checkout = clone(tmp_path / "repo" / "origin.git", tmp_path / name)
        (checkout / "ml-ci.yaml").write_text(yaml.safe_dump(body))
        done = subprocess.run(
            [sys.executable, "-m", "ml_ci", "monitor", "--now", str(NOW), "--apply",
             "--repo", "acme/churn", "--json", "--logs", str(logs)],
            cwd=checkout, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        stored.append(json.loads(done.stdout)["applied"]["stored"])
    assert stored == [True, False]
    fresh = clone(tmp_path / "repo" / "origin.git", tmp_path / "fresh")
    git(["git", "fetch", "-q", "origin", f"{REF}:{REF}"], fresh)
    commit_of = load_registry(fresh)["churn"].versions["v0.2.0"].commit
    assert len(read_results(fresh, commit_of, "monitor")) == 1


def _apply_env(gh: Any) -> dict[str, str]:
    gh.add_token("ghs_monitor", "github-actions[bot]", app=True)
    gh.add_repo("acme/churn")
    return {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_monitor"}


def _apply(root: Path, env: dict[str, str], logs: Path, now: float = NOW) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--now", str(now), "--apply",
         "--repo", "acme/churn", "--json", "--logs", str(logs)],
        cwd=root, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return dict(json.loads(done.stdout))


def test_an_accuracy_incident_stays_open_when_the_outcomes_stop_arriving(
    tmp_path: Path, fake_github: Any
) -> None:
    """No outcomes in the recent window is no verdict (alert none, as too little evidence
    always is): the incident is not closed as recovered but says so; a run that finds the
    objective met in both windows closes it."""
    root = _registry(tmp_path)
    (root / "ml-ci.yaml").write_text(
        yaml.safe_dump(
            {
                "model": {"name": "churn", "path": "models/model.pkl"},
                "monitor": {
                    "objectives": [{"metric": "accuracy", "min": 0.88}],
                    "min_requests": 50,
                },
            }
        )
    )
    env = _apply_env(fake_github)
    bad = write_logs(tmp_path / "bad.parquet", accuracy=0.85, seed=3)
    first = _apply(root, env, bad)
    assert first["objectives"][0]["alert"] == "ticket"
    assert first["applied"]["incidents"]["accuracy"]["action"] == "opened"

    silent = write_logs(
        tmp_path / "silent.parquet", tail={"labelled": 0.0}, tail_seconds=4 * DAY, seed=6
    )
    second = _apply(root, env, silent)
    windows = second["objectives"][0]["windows"]
    assert second["objectives"][0]["alert"] == "none"
    assert (windows["window"]["state"], windows["recent"]["state"]) == (
        "ok",
        "not_enough_outcomes",
    )
    assert second["applied"]["incidents"]["accuracy"]["action"] == "updated"
    (issue,) = fake_github.issues("acme/churn")
    assert issue["state"] == "open" and "ml-ci ticket" in issue["title"]
    assert "no verdict" in issue["body"] and "not enough outcomes" in issue["body"]
    assert "| recent: coverage (outcomes arrived) | 0 |" in issue["body"]
    assert not fake_github.comments("acme/churn", issue["number"])

    clean = write_logs(tmp_path / "clean.parquet", seed=7)
    third = _apply(root, env, clean)
    assert third["applied"]["incidents"]["accuracy"]["action"] == "closed"
    assert [i["state"] for i in fake_github.issues("acme/churn")] == ["closed"]
