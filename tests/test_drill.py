"""``ml-ci drill`` on the demo repository: scenarios detected, runbook commands run and checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci.drill import RUNBOOK_OF, run_drill, runbook_commands
from ml_ci.resources import templates_dir


@pytest.fixture(scope="module")
def drill_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("drill") / "demo"


def test_every_scenario_has_a_runbook_with_drill_commands() -> None:
    for scenario, page in RUNBOOK_OF.items():
        commands = runbook_commands((templates_dir() / "runbooks" / page).read_text())
        assert commands, f"{page} ({scenario}) has no sh drill block"
        assert all(c.startswith("ml-ci ") for c in commands), commands


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "found", "would"),
    [
        ("latency-regression", "page:latency_p95_ms", "incident slo:latency_p95_ms"),
        ("bad-canary", "rollback", "take the canary stage away from v0.2.0"),
        ("data-source-outage", "outage", "no decision without data"),
    ],
)
def test_the_drill_detects_and_its_runbook_works(
    drill_dir: Path, scenario: str, found: str, would: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "drill", scenario, "--dir", str(drill_dir), "--json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["found"] == found and result["ok"] is True
    assert any(would in action for action in result["would"]), result["would"]
    assert result["commands"] and all(c["ok"] for c in result["commands"])


@pytest.mark.slow
def test_a_runbook_whose_command_rots_fails_the_drill(drill_dir: Path) -> None:
    result = run_drill("latency-regression", drill_dir)  # builds the demo if not yet built
    assert result.ok
    page = result.checkout / result.runbook
    # the team's runbook names an option ml-ci does not have (a rename, a typo): caught
    page.write_text(page.read_text().replace("--json", "--jsn"))
    again = run_drill("latency-regression", drill_dir)
    assert again.detected and not again.ok
    assert any(c.exit == 2 and "--jsn" in c.command for c in again.commands)
