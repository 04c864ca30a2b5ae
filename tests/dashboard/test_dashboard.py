"""``ml-ci dashboard`` end to end: a real git registry with results in git notes, simulated
serving logs, the real command, the page rendered by headless Chromium and its drawn points
counted against the data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml_ci.dashboard.charts import LEFT, RIGHT, WIDTH
from ml_ci.logs.simulate import Profile, simulate_logs
from ml_ci.registry import load_registry
from ml_ci.release.results import append_result
from tests.release.helpers import commit, config, gto_history, gto_stages, init_repo
from tests.report import chromium

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR = 3_600
DAYS = 2
GAP = (10, 13)  # hours (from the window start) in which the version served nothing
REPO = "acme/churn"
HOSTILE_COLUMN = "<script>window.hacked=1</script>"
HOSTILE_METRIC = '"><img src=x onerror=alert(1)>'
HOSTILE_TITLE = "<b>bold</b> & <script>alert(2)</script>"
CONFIG = """
model: {name: churn, path: models/model.pkl}
logs: {path: logs.parquet}
monitor:
  window: 2d
  recent: 1d
  bucket: 5m
  min_requests: 20
  objectives:
    - {metric: latency_p95_ms, max: 200}
    - {metric: error_rate, max: 0.01}
    - {metric: accuracy, min: 0.8}
canary:
  interval: 10m
  min_duration: 1h
  max_duration: 2h
  min_requests: 200
  gates:
    - {metric: error_rate, margin: 0.01}
"""

pytestmark = pytest.mark.skipif(chromium.chromium() is None, reason="needs chromium")


def write_logs(path: Path, version: str, seed: int = 0) -> np.ndarray:
    """Two days of requests of ``version`` up to NOW with a gap; half the outcomes known.
    Returns the request times."""
    rng = np.random.default_rng(seed)
    start = NOW - DAYS * 24 * HOUR
    times = np.sort(rng.uniform(start, NOW, size=DAYS * 24 * 150))
    hour = (times - start) // HOUR
    times = times[(hour < GAP[0]) | (hour >= GAP[1])]
    n = len(times)
    slow = rng.random(n) < 0.03
    latency = np.where(slow, rng.uniform(300, 900, n), rng.uniform(20, 150, n))
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.9, y_true, 1 - y_true)
    known = rng.random(n) < 0.5
    table = pa.table(
        {
            "timestamp": pa.array((times * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
            "model_version": pa.array([version] * n),
            "latency_ms": latency,
            "error": (rng.random(n) < 0.004).astype(np.int8),
            "y_pred": y_pred,
            "y_true": pa.array(np.where(known, y_true, 0), mask=~known),
        }
    )
    pq.write_table(table, path)
    return times


def ml_ci(root: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", *args],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def registry(tmp_path: Path) -> Path:
    """v0.1.0 in production, v0.2.0 in canary (the real tag writers)."""
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


class Figures(HTMLParser):
    """Per chart (figure id): circles and polyline points of each series, bands."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, Any]] = {}
        self.figure: str | None = None
        self.series: str | None = None
        self.links: list[str] = []
        self.sources: list[str] = []
        self.scripts = 0
        self.titles: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("href"):
            self.links.append(str(a["href"]))
        if a.get("src"):
            self.sources.append(str(a["src"]))
        if tag == "script":
            self.scripts += 1
        if tag == "figure":
            self.figure = str(a["id"])
            self.charts[self.figure] = {"circles": {}, "polyline": {}, "bands": 0, "xs": []}
        elif self.figure is None:
            return
        chart = self.charts[self.figure]
        if tag == "g" and "data-series" in a:
            self.series = str(a["data-series"])
            chart["circles"][self.series] = 0
        elif tag == "circle" and self.series is not None:
            chart["circles"][self.series] += 1
            chart["xs"].append(float(str(a["cx"])))
        elif tag == "polyline" and self.series is not None:
            chart["polyline"][self.series] = len(str(a["points"]).split())
        elif tag == "rect" and a.get("class") == "band":
            chart["bands"] += 1
        elif tag == "title":
            self._in_title = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.figure = None
        elif tag == "g":
            self.series = None
        elif tag == "title":
            self._in_title = False


def hours_with(times: np.ndarray, start: float) -> int:
    return len(np.unique((times - start) // HOUR))


@pytest.fixture
def site(tmp_path: Path, fake_github: Any) -> dict[str, Any]:
    gh = fake_github
    root = registry(tmp_path)
    times = write_logs(root / "logs.parquet", "v0.1.0")
    state = load_registry(root)["churn"]
    first = state.versions["v0.1.0"].commit
    second = state.versions["v0.2.0"].commit
    # the real `monitor --apply`: its incident (a ticket on latency) and its stored result
    gh.add_token("ghs_dash", "github-actions[bot]", app=True)
    gh.add_repo(REPO)
    api = {"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_dash"}
    monitor = ml_ci(root, "monitor", "--now", str(NOW), "--apply", "--repo", REPO, "--json",
                    env=api)  # fmt: skip
    assert monitor["applied"]["stored"] and len(gh.issues(REPO)) == 1
    stored = {k: monitor[k] for k in ("alert", "window", "objectives")}
    hostile = {**stored, "alerts": {HOSTILE_METRIC: "ticket"}}
    append_result(root, first, "monitor", {**hostile}, now=NOW + 1, push=False)
    # a canary replay of v0.2.0 against production, stored as `canary --apply` stores it
    simulate_logs(
        root / "canary.parquet",
        start=NOW - 2 * HOUR,
        duration=2 * HOUR,
        requests=20_000,
        canary=("v0.2.0", Profile()),
        production=("v0.1.0", Profile()),
        outcomes=False,
        seed=4,
    )
    canary = ml_ci(
        root, "canary", "--logs", "canary.parquet", "--now", str(NOW), "--replay", "--json"
    )
    append_result(root, second, "canary", canary, now=NOW, push=False)
    # drift results per column (a hostile column name among them)
    drift_values = {"age": [0.05, 0.12, 0.31], HOSTILE_COLUMN: [0.2, 0.1, 0.0]}
    for k in range(3):
        columns = [{"column": c, "value": v[k], "threshold": 0.2} for c, v in drift_values.items()]
        append_result(root, first, "drift", {"columns": columns}, now=NOW - k * HOUR, push=False)
    # more open issues: a member's incident with a hostile title, one forged by a stranger
    gh.add_collaborator(REPO, "alice")
    marker = "<!-- ml-ci:incident model=churn version=v0.1.0 kind=slo:error_rate -->"
    gh.add_issue(REPO, HOSTILE_TITLE, user="alice", body=f"figures\n\n{marker}\n")
    gh.add_issue(REPO, "forged", user="mallory", body=marker)
    gh.add_issue(REPO, "unrelated", user="alice", body="no marker")
    summary = tmp_path / "summary.md"
    env = {
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": "ghs_dash",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    payload = ml_ci(
        root, "dashboard", "--output", "site", "--now", str(NOW), "--repo", REPO, "--json", env=env
    )
    page = root / "site" / "index.html"
    parser = Figures()
    parser.feed(chromium.dump_dom(page, tmp_path))
    return {
        "root": root, "payload": payload, "monitor": monitor, "canary": canary, "page": page,
        "dom": parser, "times": times, "summary": summary, "drift": drift_values,
    }  # fmt: skip


def test_json_lists_what_was_written(site: dict[str, Any]) -> None:
    payload = site["payload"]
    assert payload["files"] == [str(Path("site") / "index.html"), str(site["summary"])]
    assert site["page"].is_file()
    assert payload["models"] == ["churn"] and payload["production"] == "v0.1.0"
    assert "drift per column" not in " ".join(payload["notes"])
    # ml-ci's own incident and the member's; not the stranger's forgery, not the unrelated one
    incidents = [(i["number"], i["kind"]) for i in payload["incidents"]]
    assert incidents == [(1, "slo:latency_p95_ms"), (2, "slo:error_rate")]


def test_objective_status_is_the_monitors(site: dict[str, Any]) -> None:
    mine = {o["metric"]: o for o in site["payload"]["objectives"]}
    for item in site["monitor"]["objectives"]:
        assert mine[item["metric"]]["alert"] == item["alert"]
        assert mine[item["metric"]]["value"] == item["value"]
        assert mine[item["metric"]]["budget_spent"] == item.get("budget_spent")


def test_drawn_points_match_the_data(site: dict[str, Any]) -> None:
    charts = site["dom"].charts
    start = NOW - DAYS * 24 * HOUR
    served = hours_with(site["times"], start)  # hours in which the version served requests
    assert served == DAYS * 24 - (GAP[1] - GAP[0])
    # objectives: latency, error rate and burn one point per hour served; the budget spent
    # from the first hour on; accuracy one per hour in which outcomes arrived
    for index, metric in ((1, "latency_p95_ms"), (2, "error_rate")):
        assert charts[f"objective-{index}-1"]["circles"] == {metric: served}
        assert charts[f"objective-{index}-1"]["polyline"] == {metric: served}
        assert charts[f"objective-{index}-2"]["circles"] == {"burn": served}
        assert charts[f"objective-{index}-3"]["circles"] == {"spent": DAYS * 24}
    assert charts["objective-3-1"]["circles"] == {"accuracy": served}
    # the last budget point is the monitor's budget_spent
    spent = {o["metric"]: o.get("budget_spent") for o in site["monitor"]["objectives"]}
    titles = site["dom"].titles
    assert any(t.endswith(f": {spent['error_rate']:.4g}") and t.startswith("spent 01-01 00:00")
               for t in titles)  # fmt: skip
    # registry: one circle per tag event (the real gto's history), stage bands ending at the
    # holders gto shows
    timeline = charts["timeline-1"]
    assert sum(timeline["circles"].values()) == len(gto_history(site["root"], "churn"))
    assert timeline["polyline"] == {}
    # the tags were written after --now (a look back): still inside the plot, not past it
    assert all(LEFT <= x <= WIDTH - RIGHT for chart in charts.values() for x in chart["xs"])
    stages = gto_stages(site["root"], "churn")
    assert timeline["bands"] >= len(stages) + 1  # canary moved from v0.1.0 to v0.2.0
    history = load_registry(site["root"])["churn"].history
    axis_end = datetime.fromtimestamp(max(NOW, *(t.time for t in history)), UTC)
    for stage, version in stages.items():  # each holder's band reaches the end of the axis
        assert any(t.startswith(f"{version} {stage} ") and t.endswith(f"{axis_end:%m-%d %H:%M}")
                   for t in titles)  # fmt: skip
    # canary: one point per look for each version
    looks = len(site["canary"]["looks"])
    assert looks > 1
    assert charts["canary-1-1"]["circles"] == {"canary": looks, "production": looks}
    # drift: one point per stored result for each column
    assert charts["drift-1-1"]["circles"] == {name: 3 for name in site["drift"]}


def test_no_network_and_hostile_names_escaped(site: dict[str, Any]) -> None:
    dom = site["dom"]
    assert dom.scripts == 0 and dom.sources == []
    assert dom.links == [f"https://github.com/{REPO}/issues/{n}" for n in (1, 2)]
    html = site["page"].read_text(encoding="utf-8")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in html
    assert HOSTILE_COLUMN in dom.titles[0] or any(HOSTILE_COLUMN in t for t in dom.titles)
    summary = site["summary"].read_text(encoding="utf-8")
    assert "| `churn` | `production` | `v0.1.0` |" in summary
    assert "| `latency_p95_ms` |" in summary


def test_offline_notes(tmp_path: Path) -> None:
    root = registry(tmp_path)
    write_logs(root / "logs.parquet", "v0.1.0")
    payload = ml_ci(root, "dashboard", "--output", "out", "--now", str(NOW), "--json",
                    env={"GITHUB_STEP_SUMMARY": ""})  # fmt: skip
    assert payload["incidents"] is None
    assert "incidents: not fetched (offline)" in payload["notes"]
    assert "drift per column: no drift results stored beside any version" in payload["notes"]
    assert len(payload["objectives"]) == 3
    html = (root / "out" / "index.html").read_text(encoding="utf-8")
    assert "incidents: not fetched (offline)" in html


def test_a_bucket_that_does_not_divide_is_a_one_line_error(tmp_path: Path) -> None:
    root = registry(tmp_path)
    write_logs(root / "logs.parquet", "v0.1.0")
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "dashboard", "--now", str(NOW), "--bucket", "7m"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    [error] = [line for line in done.stderr.splitlines() if line.startswith("ml-ci:")]
    assert "Traceback" not in done.stderr and "reading" not in done.stderr  # checked first
    assert "--bucket 7m" in error and "monitor.bucket (5m)" in error
    assert not (root / "site").exists()


def test_a_hostile_version_is_escaped(tmp_path: Path) -> None:
    root = registry(tmp_path)
    write_logs(root / "logs.parquet", "v0.1.0")
    hostile = '"><svg onload=alert(1)>v9'
    summary = tmp_path / "summary.md"
    payload = ml_ci(root, "dashboard", "--now", str(NOW), "--version", hostile, "--json",
                    env={"GITHUB_STEP_SUMMARY": str(summary)})  # fmt: skip
    assert f"objectives: {hostile} served no request in the window" in payload["notes"]
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "<svg onload" not in html and "&lt;svg onload=alert(1)&gt;v9" in html
    text = summary.read_text(encoding="utf-8")
    assert "<svg" not in text and "&lt;svg onload=alert\\(1\\)&gt;v9" in text


def test_now_in_the_past_ignores_the_later_rows(tmp_path: Path) -> None:
    """``--now`` six hours before the logs end (a look back): the later rows are not yet known,
    not "in the future" (the real clock decides that); as logs cut at --now."""
    import pyarrow.compute as pc

    root = registry(tmp_path)
    write_logs(root / "logs.parquet", "v0.1.0")
    past = NOW - 6 * HOUR
    table = pq.read_table(root / "logs.parquet")
    stamps = pc.cast(table["timestamp"], pa.int64()).to_numpy() / 1e6
    pq.write_table(table.filter(pa.array(stamps <= past)), root / "cut.parquet")
    views = []
    for logs in ("logs.parquet", "cut.parquet"):
        payload = ml_ci(root, "dashboard", "--output", "out", "--now", str(past), "--logs", logs,
                        "--json", env={"GITHUB_STEP_SUMMARY": ""})  # fmt: skip
        views.append(payload["objectives"])
    assert len(views[0]) == 3 and views[0] == views[1]


def test_monitor_apply_stores_the_drift_the_dashboard_draws(
    tmp_path: Path, fake_github: Any
) -> None:
    """``monitor --apply`` keeps the window's drift per column beside the version: on a change
    of verdict, else at most once a day; the dashboard draws one point per entry stored."""
    from ml_ci.logs.simulate import Features
    from tests.monitor.test_drift import DAY as MDAY
    from tests.monitor.test_drift import NOW as MNOW
    from tests.monitor.test_drift import dvc_registry

    root = dvc_registry(tmp_path)
    gh = fake_github
    gh.add_token("ghs_dash", "github-actions[bot]", app=True)
    gh.add_repo(REPO)
    api = {"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_dash"}
    logs = {}
    for name, shift in (("retrain", 0.15), ("significant", 0.6)):
        logs[name] = simulate_logs(
            tmp_path / f"{name}.parquet", start=MNOW - 3 * MDAY, duration=3 * MDAY - 1,
            requests=60_000, canary=("v9.9.9", Profile()), production=("v0.1.0", Profile()),
            traffic=0.0, seed=2, features=Features(shift=("x0", 0.0, shift)),
        )  # fmt: skip
    runs = [  # (logs, --now, drift entry expected)
        ("retrain", MNOW - 2 * MDAY, True),
        ("retrain", MNOW - 2 * MDAY + 6 * HOUR, False),  # same verdict within a day
        ("significant", MNOW - 2 * MDAY + 12 * HOUR, True),  # the verdict changed
        ("significant", MNOW - MDAY + 6 * HOUR, False),
        ("significant", MNOW - MDAY + 12 * HOUR, True),  # a day after the last entry
    ]
    for name, now, expected in runs:
        done = ml_ci(root, "monitor", "--logs", str(logs[name]), "--now", str(now), "--apply",
                     "--repo", REPO, "--no-push", "--json", env=api)  # fmt: skip
        assert done["drift"] is not None, done["drift_reason"]
        assert done["drift"]["verdict"] == name
        assert done["applied"]["stored_drift"] is expected, (name, now)
    commit_of = load_registry(root)["churn"].versions["v0.1.0"].commit
    from ml_ci.release.results import read_results

    entries = read_results(root, commit_of, "drift")
    assert [e["verdict"] for e in entries] == ["retrain", "significant", "significant"]
    columns = {c["column"] for c in entries[0]["columns"]}
    assert "x0" in columns and all(
        {"method", "value", "threshold", "level"} <= set(c) for c in entries[0]["columns"]
    )
    payload = ml_ci(root, "dashboard", "--output", "site", "--now", str(MNOW), "--json",
                    env={"GITHUB_STEP_SUMMARY": ""})  # fmt: skip
    assert not any(n.startswith("drift per column") for n in payload["notes"])
    parser = Figures()
    parser.feed(chromium.dump_dom(root / "site" / "index.html", tmp_path))
    assert parser.charts["drift-1-1"]["circles"] == {name: 3 for name in sorted(columns)}
