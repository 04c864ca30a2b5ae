"""The GitHub Actions glue: one entry per composite action, inputs read from the environment.

Every composite action step runs ``python -m ml_ci.pack.action <step>`` with
``ML_CI_INPUTS: ${{ toJSON(inputs) }}`` in its ``env:``. Inputs therefore never reach a shell:
they are parsed here and passed to ``ml-ci`` as separate argv items (no interpolation, no
injection). Outputs go to ``$GITHUB_OUTPUT`` (``verdict``, ``record``, ``report``, ``comment-url``).

Exit status: a failed gate is recorded as ``verdict=fail`` and only fails the step when
``fail-on-gate`` is true (the all-in-one action reports first, then fails in its last step).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci.console import escape_control
from ml_ci.errors import EXIT_GATE_FAILED, EXIT_PASS, MlCiError

Inputs = Mapping[str, str]


class ActionInputError(Exception):
    """An action input is unusable (message names the input)."""


@dataclass
class StepResult:
    """What a step produced: the outputs to publish and the exit status to end with."""

    outputs: dict[str, str] = field(default_factory=dict)
    exit_code: int = EXIT_PASS


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """The action's inputs from ``ML_CI_INPUTS`` (JSON object); values become strings."""
    raw = environ.get("ML_CI_INPUTS", "") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        raise ActionInputError("ML_CI_INPUTS is not JSON; pass ${{ toJSON(inputs) }}") from None
    if not isinstance(data, dict):
        raise ActionInputError("ML_CI_INPUTS must be a JSON object of inputs")
    return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in data.items()}  # fmt: skip


def flag(inputs: Inputs, name: str) -> bool:
    """A boolean input: ``true``/``false`` (GitHub passes booleans as strings)."""
    value = inputs.get(name, "").strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("", "false", "0", "no"):
        return False
    raise ActionInputError(f"input {name!r}: expected true or false, got {value!r}")


def fail_on_gate(inputs: Inputs, environ: Mapping[str, str]) -> bool:
    """``fail-on-gate`` input, overridden to false by ``ML_CI_FAIL_ON_GATE`` (the all-in-one
    action defers the failure to its last step so that the report is written first)."""
    if environ.get("ML_CI_FAIL_ON_GATE", "").lower() == "false":
        return False
    return flag(inputs, "fail-on-gate")


def verdict_of(verdicts: str) -> str:
    """``fail`` if any of the space-separated step verdicts is fail, else ``pass``."""
    return "fail" if "fail" in verdicts.split() else "pass"


def option(args: list[str], name: str, value: str | None) -> list[str]:
    """``args + [name, value]`` when ``value`` is non-empty (an unset input keeps the default)."""
    return [*args, name, value] if value else args


def common(inputs: Inputs) -> list[str]:
    """``--config`` when the ``config`` input is set."""
    return option([], "--config", inputs.get("config", "").strip())


def record_path(inputs: Inputs) -> str:
    return inputs.get("record", "").strip() or "ml-ci-record.json"


def report_path(inputs: Inputs) -> str:
    return inputs.get("report", "").strip() or "ml-ci-report.md"


# ---- one function per action: inputs -> list of ml-ci argv (and whether a gate may fail) ----

Plan = list[tuple[list[str], bool]]  # (ml-ci argv, True if exit 1 means "gate failed")


def plan_pull(inputs: Inputs) -> Plan:
    args = option(["pull", *common(inputs)], "--remote", inputs.get("remote", "").strip())
    return [(option(args, "--jobs", inputs.get("jobs", "").strip()), False)]


def plan_reproduce(inputs: Inputs) -> Plan:
    args = ["repro", *common(inputs), "--record", record_path(inputs)]
    return [(option(args, "--runs", inputs.get("runs", "").strip()), True)]


def plan_evaluate(inputs: Inputs) -> Plan:
    record = record_path(inputs)
    baseline = ["baseline", *common(inputs), "--output", "baseline-predictions.csv"]
    steps: Plan = [
        (option(baseline, "--ref", inputs.get("baseline-ref", "").strip()), False),
        (["compare", *common(inputs), "--baseline", "baseline-predictions.csv",
          "--output", record], True),
    ]  # fmt: skip
    if flag(inputs, "drift"):
        steps.append((["drift", *common(inputs), "--output", record, "--fail-on", "never"], True))
    # approved sources (governance.catalog, read from the base branch): nothing when unset
    steps.append((["catalog", *common(inputs), "--record", record], True))
    return steps


def plan_report(inputs: Inputs) -> Plan:
    record = record_path(inputs)
    args = ["report", *common(inputs), "--record", record, "--output", report_path(inputs)]
    steps: Plan = [(args, False)]
    if flag(inputs, "publish"):
        steps.append((["publish", *common(inputs), "--record", record], False))
    return steps


def plan_approve(inputs: Inputs) -> Plan:
    args = option(["approve-status", *common(inputs)], "--record", inputs.get("record", "").strip())
    return [([*args, "--strict"], True)]


def plan_release(inputs: Inputs) -> Plan:
    args = ["release", *common(inputs), "--record", record_path(inputs)]
    args = option(args, "--bump", inputs.get("bump", "").strip())
    return [([*args, "--push" if flag(inputs, "push") else "--no-push"], False)]


def plan_promote(inputs: Inputs) -> Plan:
    """``ml-ci promote --to STAGE [--version V]``, or ``ml-ci rollback --stage STAGE`` when the
    ``rollback`` input is true."""
    stage = inputs.get("stage", "").strip()
    if not stage:
        raise ActionInputError("input 'stage': required (e.g. production)")
    version = inputs.get("version", "").strip()
    if flag(inputs, "rollback"):
        if version:
            raise ActionInputError(
                "input 'version': a rollback re-assigns the stage's previous version; leave "
                "version empty"
            )
        args = ["rollback", *common(inputs), "--stage", stage]
    else:
        args = option(["promote", *common(inputs), "--to", stage], "--version", version)
    return [([*args, "--push" if flag(inputs, "push") else "--no-push"], False)]


PLANS: dict[str, Callable[[Inputs], Plan]] = {
    "pull": plan_pull,
    "reproduce": plan_reproduce,
    "evaluate": plan_evaluate,
    "report": plan_report,
    "approve": plan_approve,
    "release": plan_release,
    "promote": plan_promote,
}


def find_comment_url(payload: Any) -> str:
    """The first ``*comment*url*`` string in a command's JSON result (empty if none)."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if "comment" in key and "url" in key and isinstance(value, str):
                return value
            found = find_comment_url(value)
            if found:
                return found
    elif isinstance(payload, list):
        for item in payload:
            found = find_comment_url(item)
            if found:
                return found
    return ""


def run_plan(step: str, inputs: Inputs, run: Callable[[list[str]], tuple[int, str]]) -> StepResult:
    """Run ``step``'s ml-ci commands through ``run`` (argv -> (exit code, stdout))."""
    result = StepResult(outputs={"record": record_path(inputs)})
    gate_failed = False
    for argv, gate in PLANS[step](inputs):
        code, stdout = run(argv)
        if code == EXIT_GATE_FAILED and gate:
            gate_failed = True
            continue
        if code != EXIT_PASS:
            result.exit_code = code
            return result
        if argv[0] == "publish":
            with contextlib.suppress(ValueError):  # a non-JSON result just has no URL
                result.outputs["comment-url"] = find_comment_url(json.loads(stdout))
        if argv[0] == "report":
            result.outputs["report"] = report_path(inputs)
        if argv[0] in ("release", "promote", "rollback"):
            with contextlib.suppress(ValueError, AttributeError):
                result.outputs["version"] = str(json.loads(stdout).get("version") or "")
    if step in ("reproduce", "evaluate", "approve"):
        result.outputs["verdict"] = "fail" if gate_failed else "pass"
    if gate_failed and fail_on_gate(inputs, os.environ):
        result.exit_code = EXIT_GATE_FAILED
    return result


JSON_COMMANDS = (
    "pull",
    "repro",
    "publish",
    "approve-status",
    "release",
    "promote",
    "rollback",
    "catalog",
)


def run_ml_ci(argv: list[str]) -> tuple[int, str]:
    """Run ``ml-ci argv`` (adding --json where the command has it); echo its output."""
    command = [sys.executable, "-m", "ml_ci", *argv]
    if argv[0] in JSON_COMMANDS:
        command.append("--json")
    print(f"::group::ml-ci {' '.join(argv)}", flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    print(done.stdout, end="", flush=True)
    print("::endgroup::", flush=True)
    return done.returncode, done.stdout


def find_record_run(inputs: Inputs, environ: Mapping[str, str]) -> StepResult:
    """The run id of the pull-request check whose record a workflow should use.

    ``ML_CI_RECORD_RUN_ID`` overrides the lookup (a manual re-release of a known run). Else,
    for a release on a push: the pull request merged as ``GITHUB_SHA``
    (``GET /repos/{repo}/commits/{sha}/pulls``); with the input ``pull-request: event`` (the
    approvals workflow): the event's pull request, its head read from the API. Then the
    newest run of the check workflow for that head SHA. For the approvals workflow a missing
    run is not an error: ``run-id`` is empty, and approve-status, finding no record, requires
    approval (fail closed).
    """
    override = environ.get("ML_CI_RECORD_RUN_ID", "").strip()
    if override:
        if not override.isdigit():
            raise ActionInputError("ML_CI_RECORD_RUN_ID must be a workflow run id (digits)")
        return StepResult({"run-id": override})
    from ml_ci.github.client import GitHubClient

    repo, sha = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_SHA", "")
    workflow = inputs.get("workflow", "").strip() or "ml-ci-pr.yml"
    client = GitHubClient.from_env(environ)
    for_event = inputs.get("pull-request", "").strip() == "event"
    if for_event:
        from ml_ci.github.context import from_env

        number = from_env(environ).pull_request
        if number is None:
            return StepResult({"run-id": "", "head-sha": ""})
        head = str(client.get_json(f"/repos/{repo}/pulls/{number}")["head"]["sha"])
    else:
        pulls = client.get_json(f"/repos/{repo}/commits/{sha}/pulls")
        merged = [pull for pull in pulls if pull.get("merged_at")] or pulls
        if not merged:
            raise ActionInputError(
                f"commit {sha} is not the merge of a pull request; nothing to release"
            )
        head = merged[0]["head"]["sha"]
    runs = client.get_json(
        f"/repos/{repo}/actions/workflows/{workflow}/runs",
        {"head_sha": head, "event": "pull_request", "per_page": 1},
    )
    found = runs.get("workflow_runs") or []
    if not found:
        if for_event:
            return StepResult({"run-id": "", "head-sha": head})
        raise ActionInputError(f"no {workflow} run for pull request head {head}; rerun the check")
    return StepResult({"run-id": str(found[0]["id"]), "head-sha": head})


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """Append ``name=value`` lines to ``$GITHUB_OUTPUT`` (values are single-line)."""
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            handle.write(f"{name}={value.replace(chr(10), ' ')}\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m ml_ci.pack.action <step>``; ``verdict`` ends the all-in-one action."""
    args = sys.argv[1:] if argv is None else argv
    steps = [*PLANS, "verdict", "find-record-run"]
    if len(args) != 1 or args[0] not in steps:
        print(f"usage: python -m ml_ci.pack.action {{{','.join(steps)}}}", file=sys.stderr)
        return 2
    try:
        inputs = read_inputs(os.environ)
        if args[0] == "verdict":
            verdict = verdict_of(os.environ.get("ML_CI_VERDICTS", ""))
            result = StepResult({"verdict": verdict})
            if verdict == "fail" and flag(inputs, "fail-on-gate"):
                print("::error::ml-ci: a gate failed (see the report)", file=sys.stderr)
                result.exit_code = EXIT_GATE_FAILED
        elif args[0] == "find-record-run":
            result = find_record_run(inputs, os.environ)
        else:
            result = run_plan(args[0], inputs, run_ml_ci)
    except (ActionInputError, MlCiError) as error:
        # escaped: the message may quote input, whose newline would start a new command
        print(f"::error::ml-ci: {escape_control(str(error))}", file=sys.stderr)
        return 2
    write_outputs(os.environ.get("GITHUB_OUTPUT"), result.outputs)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
