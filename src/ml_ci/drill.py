"""``ml-ci drill SCENARIO``: a tabletop exercise of the production loop on the demo repository.

1. The demo repository is built up to its release (v0.1.0 in production, v0.2.0 in canary),
   or reused from ``--dir`` when a drill built it there before; the runbooks are written into
   it as ``ml-ci init`` writes them (``docs/runbooks/``; a page already there is kept).
2. The scenario is injected into simulated serving logs (the example's log generator,
   :func:`ml_ci.logs.simulate.simulate_logs`), or into the data (``drift``), or the logs are
   taken away (``data-source-outage``).
3. ``ml-ci monitor`` / ``ml-ci canary`` / ``ml-ci drift`` run on it, and the drill says what
   ``--apply`` would have paged, opened and rolled back (nothing is written to GitHub or the
   registry).
4. The ``sh drill`` blocks of the scenario's runbook are read from the runbook FILE and run
   with ``MODEL``, ``VERSION``, ``LOGS`` and ``NOW`` set; each must work (exit 0, or 1: a
   verdict), so a runbook whose commands rot fails the drill.

The drill passes when the scenario was detected as expected and every runbook command worked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci.errors import InputError

RUNBOOK_OF = {
    "latency-regression": "latency-regression.md",
    "accuracy-decay": "degraded-accuracy.md",
    "data-source-outage": "data-source-outage.md",
    "drift": "drift.md",
    "bad-canary": "rollback.md",
}
SCENARIOS = tuple(RUNBOOK_OF)
LOGS = "serving-logs/drill.parquet"
BUILT = ".ml-ci-drill-built"  # marks a --dir the drill can reuse
DAYS = 2
_BLOCK = re.compile(r"^```sh drill\n(.*?)^```", re.S | re.M)


@dataclass
class CommandRun:
    command: str
    exit: int
    first_line: str
    outage: str | None = None  # data-source-outage: the source whose error confirms it

    @property
    def ok(self) -> bool:
        """0 or 1 (a verdict); in an outage drill also the one-line error naming the source."""
        if self.exit in (0, 1):
            return True
        return self.exit == 2 and self.outage is not None and self.outage in self.first_line

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "exit": self.exit,
            "ok": self.ok,
            "output": self.first_line,
        }


@dataclass
class DrillResult:
    scenario: str
    checkout: Path
    expected: str
    found: str
    would: list[str] = field(default_factory=list)
    runbook: str = ""
    commands: list[CommandRun] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return self.found == self.expected

    @property
    def ok(self) -> bool:
        return self.detected and bool(self.commands) and all(c.ok for c in self.commands)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "checkout": str(self.checkout),
            "expected": self.expected,
            "found": self.found,
            "detected": self.detected,
            "would": self.would,
            "runbook": self.runbook,
            "commands": [c.to_json() for c in self.commands],
            "ok": self.ok,
        }


def runbook_commands(text: str) -> list[str]:
    """The commands of the ``sh drill`` blocks, one per line (comments and blanks dropped)."""
    commands = []
    for block in _BLOCK.findall(text):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands


def _ml_ci(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    return done.returncode, done.stdout, done.stderr


def prepare(workdir: Path, progress: Callable[[str], None]) -> Path:
    """The demo's checkout after its release (built, or reused when a drill built it)."""
    from ml_ci.demo import FULL_DEMO_STEPS
    from ml_ci.example import run_demo
    from ml_ci.resources import templates_dir

    checkout = workdir / "ci-checkout"
    if not (workdir / BUILT).is_file():
        if workdir.exists() and any(workdir.iterdir()):
            raise InputError(
                f"--dir {workdir}: not empty and not a drill's demo; pass a new folder"
            )
        names = [name for name, _ in FULL_DEMO_STEPS]
        steps = FULL_DEMO_STEPS[: names.index("release") + 1]
        run_demo(workdir, steps=steps, progress=progress)
        (workdir / BUILT).write_text("ok\n", encoding="utf-8")
    runbooks = checkout / "docs" / "runbooks"
    runbooks.mkdir(parents=True, exist_ok=True)
    for page in (templates_dir() / "runbooks").glob("*.md"):
        target = runbooks / page.name
        if not target.exists():  # as ml-ci init: a page someone edited is kept
            target.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    return checkout


def _logs(checkout: Path, now: float, scenario: str) -> Path:
    """Two days of production traffic (and a canary share for bad-canary) with the scenario."""
    from ml_ci.logs.simulate import Profile, simulate_logs

    healthy = Profile(error_rate=0.002, accuracy=0.95)
    incident = None
    canary = ("v0.2.0", healthy)
    traffic = 0.0
    if scenario == "latency-regression":  # the last 90 minutes: every request ~4x slower
        incident = (now - 90 * 60, Profile(error_rate=0.002, accuracy=0.95, latency_median_ms=400))
    elif scenario == "accuracy-decay":  # the last 36 hours: accuracy falls to 0.85
        incident = (now - 36 * 3600, Profile(error_rate=0.002, accuracy=0.85))
    elif scenario == "bad-canary":  # the canary is slower (p95 +40 %)
        canary = ("v0.2.0", Profile(error_rate=0.002, accuracy=0.95, latency_median_ms=140))
        traffic = 0.1
    path = checkout / LOGS
    path.parent.mkdir(parents=True, exist_ok=True)
    start = now - (DAYS * 86_400 if scenario != "bad-canary" else 4 * 3600)
    return simulate_logs(
        path,
        start=start,
        duration=now - start - 1,
        requests=200_000,
        canary=canary,
        production=("v0.1.0", healthy),
        traffic=traffic,
        label_delay=1800.0,
        seed=sum(map(ord, scenario)),
        incident=incident,
    )


def _detect(scenario: str, checkout: Path, logs: Path, now: float) -> tuple[str, list[str], str]:
    """(what was found, what --apply would do, the version concerned)."""
    if scenario == "bad-canary":
        code, out, err = _ml_ci(
            ["canary", "--logs", str(logs), "--now", str(now), "--json"], checkout
        )
        if code not in (0, 1):
            raise InputError(f"drill: ml-ci canary failed: {err.strip().splitlines()[-1]}")
        result = json.loads(out)
        would = []
        if result["verdict"] == "rollback":
            would = [
                f"take the canary stage away from {result['canary']} (production untouched)",
                f"open or update the incident canary for {result['canary']} (rollback.md)",
                "record a deployment to the canary environment with status failure",
            ]
        return result["verdict"], would, result["canary"]
    if scenario == "drift":
        _shift_snapshot(checkout)
        code, out, err = _ml_ci(["drift", "--json", "--output", "drill-drift.json"], checkout)
        if code not in (0, 1):
            raise InputError(f"drill: ml-ci drift failed: {err.strip().splitlines()[-1]}")
        verdict = json.loads(out)["verdict"]
        would = (
            ["open or update the drift incident asking for human validation"]
            if verdict == "significant"
            else []
        )
        return verdict, would, "v0.1.0"
    code, out, err = _ml_ci(["monitor", "--logs", str(logs), "--now", str(now), "--json"], checkout)
    if scenario == "data-source-outage":
        if code == 2:
            return (
                "outage",
                [f"nothing: no decision without data ({err.strip().splitlines()[-1]})"],
                "v0.1.0",
            )
        return "no outage seen", [], "v0.1.0"
    if code not in (0, 1):
        raise InputError(f"drill: ml-ci monitor failed: {err.strip().splitlines()[-1]}")
    result = json.loads(out)
    would = []
    for item in result["objectives"]:
        if item["alert"] != "none":
            would.append(f"{item['alert']}: open or update the incident slo:{item['metric']}")
    if result["alert"] == "page":
        from ml_ci.config import load_config

        if load_config(checkout / "ml-ci.yaml").monitor.rollback == "auto":
            would.append("roll production back to its previous version (monitor.rollback: auto)")
        else:
            would.append("page a human; production stays (monitor.rollback: manual)")
    alerting = sorted(
        {f"{o['alert']}:{o['metric']}" for o in result["objectives"] if o["alert"] != "none"}
    )
    return ",".join(alerting) or "none", would, result["version"]


def _shift_snapshot(checkout: Path) -> None:
    """The production snapshot (drift.current) with one feature shifted by 1.5 sd."""
    import pandas as pd

    from ml_ci.config import load_config

    drift = load_config(checkout / "ml-ci.yaml").drift
    if drift.current is None:
        raise InputError("drill drift: drift.current is not set in the demo's ml-ci.yaml")
    current = checkout / drift.current
    pristine = current.with_name(current.name + ".drill-orig")
    if not pristine.is_file():
        pristine.write_bytes(current.read_bytes())
    table = pd.read_csv(pristine)
    column = "mean_radius"
    table[column] = table[column] + 1.5 * table[column].std()
    table.to_csv(current, index=False)


EXPECTED = {
    "latency-regression": "page:latency_p95_ms",
    "accuracy-decay": "ticket:accuracy",
    "data-source-outage": "outage",
    "drift": "significant",
    "bad-canary": "rollback",
}


def run_drill(
    scenario: str, workdir: Path, progress: Callable[[str], None] | None = None
) -> DrillResult:
    """Run one scenario (see the module doc)."""
    if scenario not in RUNBOOK_OF:
        raise InputError(f"drill: unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    say = progress or (lambda _message: None)
    checkout = prepare(workdir.resolve(), say)
    now = float(int(time.time()) - 60)
    logs = _logs(checkout, now, scenario)
    if scenario == "data-source-outage":
        logs.unlink()  # the source is gone
    say(f"drill {scenario}: logs {logs.relative_to(checkout)}, now {now:.0f}")
    found, would, version = _detect(scenario, checkout, logs, now)
    runbook = checkout / "docs" / "runbooks" / RUNBOOK_OF[scenario]
    result = DrillResult(
        scenario,
        checkout,
        EXPECTED[scenario],
        found,
        would,
        runbook.relative_to(checkout).as_posix(),
    )
    env = {**os.environ, "MODEL": "breast-cancer", "VERSION": version, "NOW": str(now)}
    env["LOGS"] = str(logs)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for command in runbook_commands(runbook.read_text(encoding="utf-8")):
        say(f"runbook: {command}")
        done = subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True
        )
        output = (done.stderr.strip() or done.stdout.strip()).splitlines()
        outage = f"logs {logs}" if scenario == "data-source-outage" else None
        last = output[-1][:300] if output else ""
        result.commands.append(CommandRun(command, done.returncode, last, outage))
    return result
