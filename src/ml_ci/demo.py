"""The whole ml-ci flow on the bundled example, offline: what ``ml-ci demo`` runs.

After the foundation steps (build, clone, pull, verified repro; see :mod:`ml_ci.example`)
each step runs the real ``ml-ci`` command in the candidate's checkout, exactly as a CI job
would, and keeps its verdict:

* ``baseline``/``compare``: score main's model on the candidate's rows; gate the difference.
* ``drift``: the candidate's training data against main's.
* ``report``: markdown and standalone HTML reports of the record.
* ``register``: main's model becomes the first release (v0.1.0) and goes to production. It is
  evaluated against itself: there is no earlier model to compare with.
* ``release``: alice approves, the candidate merges, ``ml-ci release`` tags it for canary and
  writes its model card (``ml-ci-model-card.md``, the release's ``MODEL_CARD.md``).
* ``canary-rollback``: simulated serving logs where v0.2.0 (the canary) is slower than
  production: ``ml-ci canary --apply`` rolls it back on its own (the canary stage is taken
  away; production untouched).
* ``canary-promote``: v0.2.0 back in canary after the fix; on healthy traffic ``ml-ci canary
  --apply`` promotes it to production.
* ``monitor``: three days of v0.2.0's production traffic (outcomes arriving six hours late,
  the inputs resampled from its training table, ``mean_radius`` shifted over the last day):
  ``ml-ci monitor`` judges its objectives, estimates accuracy for the rows still without
  outcome (CBPE) and finds the input drift; ``ml-ci dashboard`` draws ``site/index.html``.
* ``rollback``: production rolls back to v0.1.0 by hand.

After each registry change, ``ml-ci registry show`` is checked against ``gto show`` (when
the ``gto`` package is installed) so the two always agree on who holds which stage.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ml_ci import gitutil
from ml_ci.errors import ExternalToolError
from ml_ci.example import BASE_BRANCH, CANDIDATE_BRANCH, DEMO_STEPS, DemoContext, DemoStep

APPROVER = "alice"
BASELINE_PREDICTIONS = ".ml-ci/baseline-predictions.csv"
REPORT_MARKDOWN = "ml-ci-report.md"
REPORT_HTML = "ml-ci-report.html"
SERVING_LOGS = "serving-logs/requests.parquet"  # logs.path in the example's ml-ci.yaml
CANARY_HOURS = 4


def ml_ci(args: list[str], cwd: Path, *, allow: tuple[int, ...] = (0,)) -> tuple[int, str]:
    """Run the real ``ml-ci`` command; return (exit code, stdout). Other codes are errors."""
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", *args], cwd=cwd, capture_output=True, text=True
    )
    if done.returncode not in allow:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise ExternalToolError(f"demo: `ml-ci {' '.join(args)}` failed in {cwd}: {last}")
    return done.returncode, done.stdout


def _json(args: list[str], cwd: Path, *, allow: tuple[int, ...] = (0,)) -> tuple[int, Any]:
    code, out = ml_ci([*args, "--json"], cwd, allow=allow)
    return code, json.loads(out)


def _step_baseline(context: DemoContext) -> str:
    root = context.require_checkout()
    ml_ci(["baseline", "--ref", BASE_BRANCH, "--output", BASELINE_PREDICTIONS], root)
    return f"{BASE_BRANCH}'s model scored on the candidate's rows"


def _step_compare(context: DemoContext) -> str:
    root = context.require_checkout()
    _, section = _json(
        ["compare", "--baseline", BASELINE_PREDICTIONS, "--output", "ml-ci-record.json"],
        root,
        allow=(0, 1),
    )
    from ml_ci.record.compare import CompareSection
    from ml_ci.report.view import gate_summary

    return f"{section['verdict']}: {gate_summary(CompareSection.model_validate(section))}"


def _step_drift(context: DemoContext) -> str:
    root = context.require_checkout()
    _, section = _json(["drift", "--output", "ml-ci-record.json"], root, allow=(0, 1))
    drifted = [column["column"] for column in section["columns"] if column["drifted"]]
    return f"{section['verdict']} (drifted: {', '.join(drifted) or 'none'})"


def _step_report(context: DemoContext) -> str:
    root = context.require_checkout()
    for fmt, name in (("markdown", REPORT_MARKDOWN), ("html", REPORT_HTML)):
        ml_ci(["report", "--record", "ml-ci-record.json", "--format", fmt, "--output", name], root)
    context.report_path = root / REPORT_MARKDOWN
    return f"{root / REPORT_MARKDOWN} and {root / REPORT_HTML}"


def registry_agrees(root: Path) -> dict[str, str]:
    """Stages of the example's model per ``ml-ci registry show``; checked against ``gto show``.

    Raises when gto is installed and disagrees. Returns ``{stage: version}``.
    """
    _, shown = _json(["registry", "show"], root)
    model = next(iter(shown["models"].values()), None)
    ours: dict[str, str] = {}
    if model is not None:
        ours = {stage: holder["version"] for stage, holder in model["stages"].items()}
    gto = shutil.which("gto") or str(Path(sys.executable).with_name("gto"))
    if Path(gto).exists():
        done = subprocess.run([gto, "show", "--json"], cwd=root, capture_output=True, text=True)
        if done.returncode == 0:
            theirs = _gto_stages(json.loads(done.stdout))
            if theirs != ours:
                raise ExternalToolError(f"demo: ml-ci registry {ours} disagrees with gto {theirs}")
    return ours


def _gto_stages(shown: Any) -> dict[str, str]:
    """``{stage: version}`` from ``gto show --json`` (one model)."""
    stages: dict[str, str] = {}
    for entry in shown.values() if isinstance(shown, dict) else []:
        for stage, versions in (entry.get("stage") or {}).items():
            if versions:
                stages[stage] = versions if isinstance(versions, str) else versions[0]
    return stages


def _step_register(context: DemoContext) -> str:
    """Main's model becomes v0.1.0 in production (it is compared with itself: no predecessor)."""
    if context.example is None:
        raise RuntimeError("the demo's build step must run first")
    main = context.example.workdir / "main-checkout"
    origin = str(context.example.git_remote)
    gitutil.git(["clone", "-q", "-b", BASE_BRANCH, origin, str(main)], context.workdir)
    ml_ci(["pull"], main)
    ml_ci(["repro", "--record", "ml-ci-record.json"], main)
    ml_ci(["compare", "--baseline", "predictions.csv", "--output", "ml-ci-record.json"], main)
    _, result = _json(
        ["release", "--offline", "--approved-by", APPROVER, "--record", "ml-ci-record.json"], main
    )
    ml_ci(["promote", "--to", "production"], main)
    stages = registry_agrees(main)
    return f"{result['version']} released and promoted: {stages}"


def _step_release(context: DemoContext) -> str:
    """alice approves, the candidate merges into main, and the merge is released to canary."""
    root = context.require_checkout()
    for args in (
        ["fetch", "-q", "--tags", "origin"],
        ["checkout", "-q", BASE_BRANCH],
        ["merge", "-q", "--ff-only", f"origin/{BASE_BRANCH}"],
        ["merge", "-q", "--no-ff", "-m", f"Merge branch '{CANDIDATE_BRANCH}'", CANDIDATE_BRANCH],
        ["push", "-q", "origin", BASE_BRANCH],
    ):
        gitutil.git(args, root)
    code, result = _json(
        ["release", "--offline", "--approved-by", APPROVER, "--record", "ml-ci-record.json"],
        root,
        allow=(0, 1),
    )
    if code != 0:
        return "refused (see the record's gates)"
    stages = registry_agrees(root)
    card = Path(result["model_card"]).name
    return f"approved by {APPROVER}, merged, tagged {', '.join(result['tags'])} (card {card}): {stages}"


def _serving_logs(root: Path, start: float, slow_canary: bool) -> Path:
    """Four hours of simulated traffic, 10 % to the canary (the example's log generator)."""
    from ml_ci.logs.simulate import Profile, simulate_logs

    path = root / SERVING_LOGS
    path.parent.mkdir(parents=True, exist_ok=True)
    # a slow serving node: the canary's median latency +40 % (p95 too), errors as production's
    healthy = Profile(error_rate=0.002)
    canary = Profile(error_rate=0.002, latency_median_ms=140.0) if slow_canary else healthy
    return simulate_logs(
        path,
        start=start,
        duration=CANARY_HOURS * 3600,
        requests=200_000,  # ~14 requests a second, 10 % of them to the canary
        canary=("v0.2.0", canary),
        production=("v0.1.0", healthy),
        traffic=0.1,
        outcomes=False,
        seed=11 if slow_canary else 12,
    )


def _canary(root: Path, start: float, slow: bool) -> tuple[int, Any]:
    logs = _serving_logs(root, start, slow)
    now = str(start + CANARY_HOURS * 3600)
    return _json(["canary", "--logs", str(logs), "--now", now, "--apply"], root, allow=(0, 1))


def _step_canary_rollback(context: DemoContext) -> str:
    """v0.2.0's first canary meets a slow serving node: rolled back on its own."""
    import time

    root = context.require_checkout()
    start = time.time() - 2 * (CANARY_HOURS + 1) * 3600
    _, result = _canary(root, start, slow=True)
    latency = next(g for g in result["gates"] if g["metric"] == "latency_p95_ms")
    return (
        f"{result['verdict']} at {result['decided_at']} (p95 latency "
        f"{latency['canary']:.0f} vs {latency['production']:.0f} ms; canary stage taken away): "
        f"{registry_agrees(root)}"
    )


def _step_canary_promote(context: DemoContext) -> str:
    """After the fix, v0.2.0 goes back to canary and, on healthy traffic, to production."""
    import time

    root = context.require_checkout()
    ml_ci(["promote", "--to", "canary", "--version", "v0.2.0"], root)
    start = time.time() - (CANARY_HOURS + 1) * 3600
    _, result = _canary(root, start, slow=False)
    return f"{result['verdict']} at {result['decided_at']}: {registry_agrees(root)}"


MONITOR_DAYS = 3
DASHBOARD = "site"


def _production_logs(root: Path, now: float) -> Path:
    """Three days of v0.2.0 in production: the example's log generator for requests and
    outcomes (they arrive 6 h late, so the last 6 h have none yet), inputs resampled from the
    training table of the merged commit, ``mean_radius`` +1.5 sd over the last day."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ml_ci.logs.simulate import Profile, simulate_logs

    path = root / SERVING_LOGS
    path.parent.mkdir(parents=True, exist_ok=True)
    start = now - MONITOR_DAYS * 86_400
    simulate_logs(
        path,
        start=start,
        duration=MONITOR_DAYS * 86_400 - 1,
        requests=150_000,
        canary=("v0.3.0", Profile()),
        production=("v0.2.0", Profile(error_rate=0.002, accuracy=0.95)),
        traffic=0.0,
        label_delay=6 * 3600,
        seed=13,
    )
    logs = pq.read_table(path)
    train = pd.read_csv(root / "data/train.csv").drop(columns=["id", "malignant"])
    rng = np.random.default_rng(13)
    inputs = train.iloc[rng.integers(0, len(train), logs.num_rows)].reset_index(drop=True)
    times = logs.column("timestamp").cast(pa.int64()).to_numpy() / 1e6
    late = times >= now - 86_400
    inputs.loc[late, "mean_radius"] += 1.5 * train["mean_radius"].std()
    for name in inputs.columns:
        logs = logs.append_column(name, pa.array(inputs[name].to_numpy()))
    pq.write_table(logs, path)
    return path


def _step_monitor(context: DemoContext) -> str:
    """v0.2.0 in production: objectives, the CBPE estimate, input drift, the dashboard."""
    import time

    root = context.require_checkout()
    now = float(int(time.time()))
    logs = _production_logs(root, now)
    code, result = _json(["monitor", "--logs", str(logs), "--now", str(now)], root, allow=(0, 1))
    accuracy = next(o for o in result["objectives"] if o["metric"] == "accuracy")
    drift = result["drift"] or {}
    drifted = [c["column"] for c in drift.get("columns", []) if c["drifted"]]
    ml_ci(["dashboard", "--output", DASHBOARD, "--logs", str(logs), "--now", str(now)], root)
    return (
        f"{result['version']} alert {result['alert']} (exit {code}); accuracy "
        f"{accuracy['value']:.3f} on {accuracy['coverage']:.0%} with outcomes, estimate "
        f"{accuracy['estimate']:.3f} with the {accuracy['estimated_rows']} without; input drift "
        f"{drift.get('verdict', result.get('drift_reason'))} ({', '.join(drifted) or 'none'}); "
        f"dashboard {DASHBOARD}/index.html"
    )


def _step_rollback(context: DemoContext) -> str:
    root = context.require_checkout()
    _, result = _json(["rollback", "--stage", "production"], root)
    return f"production back to {result['version']}: {registry_agrees(root)}"


#: The full demo: the foundation's steps, then every later stage.
FULL_DEMO_STEPS: list[DemoStep] = [
    *DEMO_STEPS,
    ("baseline", _step_baseline),
    ("compare", _step_compare),
    ("drift", _step_drift),
    ("report", _step_report),
    ("register", _step_register),
    ("release", _step_release),
    ("canary-rollback", _step_canary_rollback),
    ("canary-promote", _step_canary_promote),
    ("monitor", _step_monitor),
    ("rollback", _step_rollback),
]
