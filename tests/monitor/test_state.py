"""A quality objective's top-level ``state``: the worst of its windows, named in the text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.monitor.test_command import DAY, NOW, VERSION, _config, _monitor, write_logs


def test_a_breach_in_the_recent_part_is_the_objectives_state(tmp_path: Path) -> None:
    """27 days at 0.92 and the last 3 (monitor.recent) at 0.70: over the window the accuracy is
    (27 * 0.92 + 3 * 0.70) / 30 = 0.898, above 0.88 (ok); over the last 3 days 0.70 (breached).
    The line must not read "ticket ... ok"."""
    _config(tmp_path, [{"metric": "accuracy", "min": 0.88}])
    logs = write_logs(
        tmp_path / "logs.parquet", accuracy=0.92, tail={"accuracy": 0.70}, tail_seconds=3 * DAY
    )
    done = _monitor(tmp_path, logs)
    assert done.returncode == 0, done.stderr
    accuracy = json.loads(done.stdout)["objectives"][0]
    windows = accuracy["windows"]
    assert windows["window"]["state"] == "ok" and windows["recent"]["state"] == "breached"
    assert windows["window"]["value"] == pytest.approx(0.898, abs=0.005)
    assert accuracy["alert"] == "ticket"
    assert accuracy["state"] == "breached" and accuracy["state_window"] == "recent"
    assert accuracy["value"] == windows["window"]["value"]  # the figures stay the window's
    text = subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(logs), "--version", VERSION,
         "--now", str(NOW)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    line = next(x for x in text.stdout.splitlines() if x.strip().startswith("accuracy"))
    assert "ticket" in line and "breached in the recent part" in line, line
    assert not line.rstrip().endswith("; ok"), line


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({"window": "ok", "recent": "breached"}, "recent"),
        ({"window": "breached", "recent": "breached"}, "window"),
        ({"window": "not_enough_outcomes", "recent": "breached"}, "recent"),
        ({"window": "ok", "recent": "not_enough_outcomes"}, "recent"),
        ({"window": "not_enough_outcomes", "recent": "no_requests"}, "window"),
        ({"window": "ok", "recent": "ok"}, "window"),
    ],
)
def test_the_worst_state_follows_the_documented_order(
    states: dict[str, str], expected: str
) -> None:
    from ml_ci.monitor.engine import STATE_ORDER, worst_state

    assert worst_state(states) == expected
    assert STATE_ORDER[0] == "breached" and STATE_ORDER[-1] == "ok"
