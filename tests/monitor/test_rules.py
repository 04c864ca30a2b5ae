"""Exported Prometheus rules: promtool accepts them and a real Prometheus fires what ml-ci would."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import yaml

from ml_ci.monitor.burn import evaluate_budget
from ml_ci.monitor.rules import PromMetrics, RequestObjective, export_rules, promql_duration
from tests.prometheus import need_prometheus, start_prometheus

NAMES = PromMetrics(selector='model="churn"')
OBJECTIVES = [
    RequestObjective("latency_p95_ms", budget=0.05, threshold_ms=200),
    RequestObjective("error_rate", budget=0.001),
]
BOUNDS = (50, 100, 200, 500)
PER_MINUTE = 600  # 10 requests a second
HOURS = 8
REGRESSION_MINUTES = 90


def _rule_file(tmp_path: Path) -> Path:
    rules = export_rules(
        "churn", OBJECTIVES, names=NAMES, window=timedelta(days=30), min_requests=100
    )
    path = tmp_path / "ml-ci-rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return path


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    _, promtool = need_prometheus()
    done = subprocess.run(
        [promtool, "check", "rules", str(_rule_file(tmp_path))], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 18 rules found" in done.stdout  # 2 x (7 windows + page + ticket)


def test_durations_in_promql_units() -> None:
    assert [promql_duration(timedelta(minutes=m)) for m in (5, 30, 60, 120, 4320)] == [
        "5m",
        "30m",
        "1h",
        "2h",
        "3d",
    ]


def _minutes() -> tuple[np.ndarray, np.ndarray]:
    """Per minute: requests, and requests slower than 200 ms (2 %, then 80 % at the end)."""
    minutes = HOURS * 60
    total = np.full(minutes, PER_MINUTE, dtype=np.int64)
    slow = np.full(minutes, PER_MINUTE * 2 // 100, dtype=np.int64)
    slow[-REGRESSION_MINUTES:] = PER_MINUTE * 80 // 100
    return total, slow


def _openmetrics(end: int) -> str:
    """Cumulative counters and a latency histogram, one sample a minute, ending at ``end``."""
    total, slow = _minutes()
    lines = [
        "# TYPE ml_requests counter",
        "# TYPE ml_request_errors counter",
        "# TYPE ml_request_latency_ms histogram",
    ]
    start = end - 60 * (len(total) - 1)
    requests = errors = fast_total = 0
    for minute, (served, slower) in enumerate(zip(total, slow, strict=True)):
        at = start + 60 * minute
        requests += int(served)
        errors += int(served) // 2000  # 0.05 %: half the error budget
        fast_total += int(served - slower)
        label = 'model="churn"'
        lines.append(f"ml_requests_total{{{label}}} {requests} {at}")
        lines.append(f"ml_request_errors_total{{{label}}} {errors} {at}")
        for bound in BOUNDS:
            # below 200 ms everything fast sits under 100 ms; the slow ones above 200 ms
            count = fast_total if bound in (100, 200) else (fast_total // 2 if bound == 50 else 0)
            if bound == 500:
                count = requests
            lines.append(f'ml_request_latency_ms_bucket{{{label},le="{bound}.0"}} {count} {at}')
        lines.append(f'ml_request_latency_ms_bucket{{{label},le="+Inf"}} {requests} {at}')
        lines.append(f"ml_request_latency_ms_count{{{label}}} {requests} {at}")
    return "\n".join([*lines, "# EOF", ""])


def test_a_real_prometheus_pages_on_the_latency_regression_only(tmp_path: Path) -> None:
    # the same minutes through ml-ci's own arithmetic: burn 0.8 / 0.05 = 16 over the last
    # hour and five minutes, above 14.4 -> page; errors burn 0.5 -> nothing. (ml-ci counts
    # exactly; Prometheus' rate() extrapolates a little: far from the thresholds here.)
    total, slow = _minutes()
    five = timedelta(minutes=5)
    per5_total, per5_slow = total.reshape(-1, 5).sum(1), slow.reshape(-1, 5).sum(1)
    latency = evaluate_budget(per5_slow, per5_total, budget=0.05, bucket=five, min_requests=100)
    errors = evaluate_budget(per5_total // 2000, per5_total, budget=0.001, bucket=five)
    assert (latency.alert, errors.alert) == ("page", "none")

    end = int(time.time()) - 5  # the rules evaluate at the server's now
    server = start_prometheus(tmp_path, _openmetrics(end), [_rule_file(tmp_path)])
    try:
        groups = server.get("/api/v1/rules")["groups"]
        assert len(groups) == 2 and all(
            rule["health"] != "err" for group in groups for rule in group["rules"]
        ), groups
        firing: list[dict[str, str]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alerts = server.get("/api/v1/alerts")["alerts"]
            firing = [a["labels"] for a in alerts if a["state"] == "firing"]
            if firing:
                break
            time.sleep(0.5)
        time.sleep(2)  # a few more evaluations: nothing else may fire
        alerts = server.get("/api/v1/alerts")["alerts"]
        firing = [a["labels"] for a in alerts if a["state"] == "firing"]
        # exactly the severities whose rules fire in ml-ci's own evaluation (the 1 h page and,
        # with 8 h of data in the 1 d window, the 1 d / 2 h ticket: (1.5 h x 0.8 + 6.5 h x
        # 0.02) / 8 h = 0.166 > 3 x 0.05), and nothing for the errors
        expected = {("latency_p95_ms", rule.rule.alert) for rule in latency.rules if rule.firing}
        assert expected == {("latency_p95_ms", "page"), ("latency_p95_ms", "ticket")}
        assert {(a["slo"], a["severity"]) for a in firing} == expected, firing
    finally:
        server.stop()
