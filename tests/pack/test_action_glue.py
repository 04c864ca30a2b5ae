"""The composite actions' Python entry (ml_ci.pack.action) and installer (ml_ci.pack.install)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci import __version__
from ml_ci.pack import action, install
from tests.pack.snapshot import PROJECT


def test_inputs_come_from_json_and_never_a_shell() -> None:
    inputs = action.read_inputs(
        {"ML_CI_INPUTS": json.dumps({"config": "a b;rm -rf /", "drift": True})}
    )
    plan = action.plan_evaluate(inputs)
    assert plan[1][0] == ["compare", "--config", "a b;rm -rf /", "--baseline",
                          "baseline-predictions.csv", "--output", "ml-ci-record.json"]  # fmt: skip
    assert plan[-2][0][0] == "drift"  # drift: true adds the drift step
    assert plan[-1][0][:3] == ["catalog", "--config", "a b;rm -rf /"]  # always: none -> no-op
    with pytest.raises(action.ActionInputError, match="ML_CI_INPUTS"):
        action.read_inputs({"ML_CI_INPUTS": "not json"})
    with pytest.raises(action.ActionInputError, match="'publish'"):
        action.flag({"publish": "maybe"}, "publish")


def test_a_failed_gate_is_a_verdict_and_fails_only_when_asked() -> None:
    calls: list[list[str]] = []

    def runner(argv: list[str]) -> tuple[int, str]:
        calls.append(argv)
        return (1, "") if argv[0] == "compare" else (0, "")

    result = action.run_plan("evaluate", {"fail-on-gate": "false"}, runner)
    assert result.outputs["verdict"] == "fail" and result.exit_code == 0
    assert [c[0] for c in calls] == ["baseline", "compare", "catalog"]
    assert action.run_plan("evaluate", {"fail-on-gate": "true"}, runner).exit_code == 1
    # exit 2 (a usage error) is never a verdict: it stops the step
    assert action.run_plan("pull", {}, lambda argv: (2, "")).exit_code == 2


def test_promote_plans_a_promotion_or_a_rollback() -> None:
    promote = action.plan_promote({"stage": "production", "version": "v1.2.0", "push": "true"})
    assert promote == [(["promote", "--to", "production", "--version", "v1.2.0", "--push"], False)]
    back = action.plan_promote({"stage": "production", "rollback": "true", "push": "false"})
    assert back == [(["rollback", "--stage", "production", "--no-push"], False)]
    with pytest.raises(action.ActionInputError, match="'version'"):
        action.plan_promote({"stage": "production", "version": "v1.0.0", "rollback": "true"})
    with pytest.raises(action.ActionInputError, match="'stage'"):
        action.plan_promote({"version": "v1.0.0"})
    result = action.run_plan(
        "promote",
        {"stage": "production", "rollback": "true"},
        lambda argv: (0, '{"version": "v1.0.0"}'),
    )
    assert result.outputs["version"] == "v1.0.0"


def test_publish_output_has_the_comment_url() -> None:
    payload = json.dumps({"comment": {"id": 3, "html_url_x": 1}, "comment_url": "https://x/1#c"})
    result = action.run_plan("report", {"publish": "true"}, lambda argv: (0, payload))
    assert result.outputs["comment-url"] == "https://x/1#c"
    assert result.outputs["report"] == "ml-ci-report.md"


def test_verdict_step_writes_outputs(tmp_path: Path) -> None:
    output = tmp_path / "out"
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "ML_CI_VERDICTS": "pass fail",
           "ML_CI_INPUTS": json.dumps({"fail-on-gate": "true"})}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "ml_ci.pack.action", "verdict"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1 and "verdict=fail" in output.read_text()
    env["ML_CI_VERDICTS"] = "pass pass"
    done = subprocess.run([sys.executable, "-m", "ml_ci.pack.action", "verdict"], env=env)
    assert done.returncode == 0


def test_record_run_override_is_validated() -> None:
    assert action.find_record_run({}, {"ML_CI_RECORD_RUN_ID": "42"}).outputs == {"run-id": "42"}
    with pytest.raises(action.ActionInputError):
        action.find_record_run({}, {"ML_CI_RECORD_RUN_ID": "42; rm"})


def test_installer_reuses_the_same_version_on_path(tmp_path: Path) -> None:
    assert install.wanted_version(PROJECT) == __version__
    github_path = tmp_path / "path"
    outputs = tmp_path / "outputs"
    env = {**os.environ, "GITHUB_PATH": str(github_path), "GITHUB_OUTPUT": str(outputs),
           "RUNNER_TEMP": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    # run it the way the actions do: a plain script, before ml-ci is importable
    done = subprocess.run(["python3", str(PROJECT / "src/ml_ci/pack/install.py")], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "already installed" in done.stdout
    assert github_path.read_text().strip() == str(Path(sys.executable).parent)
    assert outputs.read_text().strip() == f"version={__version__}"
