"""The whole ml-ci flow on the bundled example, offline: what ``ml-ci demo`` runs.

After the foundation steps (build, clone, pull, verified repro; see :mod:`ml_ci.example`)
each step runs the real ``ml-ci`` command in the candidate's checkout, exactly as a CI job
would, and keeps its verdict:

* ``baseline``/``compare``: score main's model on the candidate's rows; gate the difference.
* ``drift``: the candidate's training data against main's.
* ``report``: markdown and standalone HTML reports of the record.
* ``register``: main's model becomes the first release (v0.1.0) and goes to production. It is
  evaluated against itself: there is no earlier model to compare with.
* ``release``: alice approves, the candidate merges, ``ml-ci release`` tags it for canary.
* ``promote`` / ``rollback``: the candidate goes to production, then production rolls back.

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
    return f"approved by {APPROVER}, merged, tagged {', '.join(result['tags'])}: {stages}"


def _step_promote(context: DemoContext) -> str:
    root = context.require_checkout()
    _, result = _json(["promote", "--to", "production"], root)
    return f"{result['version']} to production (was {result['previous']}): {registry_agrees(root)}"


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
    ("promote", _step_promote),
    ("rollback", _step_rollback),
]
