"""``ml-ci monitor --apply``: act on the alerts, idempotently, through the code that exists.

Per objective, through :mod:`ml_ci.github.incidents` (one issue per model, version and
``slo:<metric>``): ``page`` or ``ticket`` opens or updates the incident with the figures, the
window and the matching runbook; ``none`` closes an open one ("recovered") only on a verdict
of ok (:func:`no_verdict`): with too few outcomes or requests the open incident stays and says
"no verdict". A ``page`` with
``monitor.rollback: auto`` also gives production back to its previous version
(:func:`ml_ci.release.promote.rollback`, the same tag writer as ``ml-ci rollback``), only while
the paged version still holds production, so a rerun does not roll back twice.

Input drift of the window (:func:`apply_drift`), one incident of kind ``drift`` per version:
``retrain`` dispatches ``monitor.retrain.workflow``
(:func:`ml_ci.github.dispatch.dispatch_workflow`, as ``ml-ci watch`` does) and opens or
updates the incident saying so; ``significant`` opens or updates it asking a person (never
retrains, as ``ml-ci watch``); ``pass`` closes it. The open incident is what makes the
dispatch idempotent: the dispatch is recorded in its body (a hidden :data:`DISPATCH_MARK`,
kept by every rewrite), and a run at ``retrain`` dispatches only when the open incident has
no such mark, so the scheduled reruns on the same drift do not start another retraining,
while an incident opened at ``significant`` still retrains when the drift reaches
``retrain``; closing the issue (or the drift passing) allows the next one. GitHub holds that
state, so it holds across runs on fresh clones, which a local record would not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.github.incidents import (
    IncidentKey,
    IncidentResult,
    close_on_recovery,
    find_incident,
    open_or_update,
    update_open,
)
from ml_ci.monitor.engine import MonitorResult, ObjectiveResult, WindowDrift

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.github.client import GitHubClient

RUNBOOKS = {
    "accuracy": "degraded-accuracy.md",
    "error_rate": "latency-regression.md",
    "latency_p50_ms": "latency-regression.md",
    "latency_p95_ms": "latency-regression.md",
    "latency_p99_ms": "latency-regression.md",
    "drift": "drift.md",
}
MAX_DRIFT_ROWS = 30


@dataclass
class ApplyResult:
    incidents: dict[str, IncidentResult] = field(default_factory=dict)  # metric -> action
    rolled_back: dict[str, Any] | None = None
    stored: bool = False
    drift: dict[str, Any] | None = None  # the drift incident and dispatch (None: no drift)
    stored_drift: bool = False  # a drift entry was stored (for the dashboard)

    def to_json(self) -> dict[str, Any]:
        return {
            "incidents": {metric: r.to_json() for metric, r in self.incidents.items()},
            "rolled_back": self.rolled_back,
            "stored": self.stored,
            "stored_drift": self.stored_drift,
            "drift": self.drift,
        }


def runbook_url(server: str, repository: str, branch: str, folder: str, metric: str) -> str:
    return f"{server}/{repository}/blob/{branch}/{folder.strip('/')}/{RUNBOOKS[metric]}"


def no_verdict(item: ObjectiveResult, min_requests: int) -> str | None:
    """Why an objective without an alert is not known to be met (``None``: it is met).

    An alert of ``none`` is also what too little evidence gives (a window never alerts on too
    few requests or outcomes); only a verdict of ok recovers an incident: a quality objective
    ``ok`` in every window it is judged on (the CBPE estimate decides nothing), a request
    objective with at least ``min_requests`` requests in the window."""
    p = item.payload
    if p["kind"] == "requests":
        if p["requests"] < min_requests:
            return f"too few requests ({p['requests']} of the {min_requests} needed)"
        return None
    states = {name: view["state"] for name, view in p["windows"].items()}
    missing = [f"{name}: {state.replace('_', ' ')}" for name, state in states.items()
               if state != "ok"]  # fmt: skip
    return "; ".join(missing) or None


def incident_body(
    result: MonitorResult,
    item: ObjectiveResult,
    runbook: str,
    run_url: str | None,
    unknown: str | None = None,
) -> str:
    """The incident text: what is wrong, the figures, the window, the runbook (escaped).
    ``unknown``: this run has no verdict (:func:`no_verdict`'s reason); the incident stays."""
    from ml_ci.clock import iso
    from ml_ci.report.safe import md_code, md_link, md_text

    p = item.payload
    what = f"{md_code(item.objective.metric)} of {md_code(result.model)} {md_code(result.version)}"
    head = (
        f"**no verdict: {md_text(unknown)}**: this run cannot tell whether {what} (production) "
        "meets its objective again; the incident stays open until a run finds it met."
        if unknown
        else f"**{item.alert}**: {what} (production) misses its objective."
    )
    lines = [
        head,
        "",
        f"Window {iso(result.window_start)} .. {iso(result.now)}, {result.requests} requests.",
        "",
        "| | value |",
        "|---|---|",
    ]

    def row(name: str, value: Any) -> None:
        shown = (
            "-" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
        )
        lines.append(f"| {name} | {shown} |")

    if p["kind"] == "requests":
        row("objective (max)", p["objective"]["max"])
        row("value", p["value"])
        row(f"bad share ({p['bad_definition']})", p["bad_share"])
        row("error budget", p["budget"])
        row("budget spent", p["budget_spent"])
        lines += [
            "",
            "| rule | long window burn | short window burn | threshold | firing |",
            "|---|---|---|---|---|",
        ]
        for burn in p["burn"]:
            lb, sb = burn["long_burn"], burn["short_burn"]
            lines.append(
                f"| {burn['alert']} {burn['long']} / {burn['short']} | "
                f"{'-' if lb is None else f'{lb:.3g}'} | {'-' if sb is None else f'{sb:.3g}'} | "
                f"{burn['threshold']:g} | {'yes' if burn['firing'] else 'no'} |"
            )
    else:
        row("objective (min)", p["objective"]["min"])
        for name, view in p["windows"].items():
            row(f"{name}: value", view["value"])
            row(f"{name}: upper bound", view["upper"])
            row(f"{name}: coverage (outcomes arrived)", view["coverage"])
            if view.get("estimate") is not None:  # an estimate: shown, never the alert's cause
                row(
                    f"{name}: estimate with rows without outcome (CBPE, calibrated scores)",
                    view["estimate"],
                )
                row(f"{name}: rows estimated from scores", view["estimated_rows"])
            row(f"{name}: state", view["state"].replace("_", " "))
    lines += ["", f"Runbook: {md_link('how to confirm, roll back and whom to tell', runbook)}"]
    if run_url:
        lines.append(f"Run: {md_link('the monitor run', run_url)}")
    lines.append("")
    lines.append(
        "This issue is updated by every monitor run and closed when a run finds the objective "
        "met (with enough requests and outcomes to tell)."
    )
    return "\n".join(lines)


def apply(
    result: MonitorResult,
    config: Config,
    *,
    client: GitHubClient,
    repository: str,
    root: Path,
    server: str = "https://github.com",
    branch: str = "main",
    run_url: str | None = None,
    push: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ApplyResult:
    say = progress or (lambda _message: None)
    monitor = config.monitor
    bots = tuple(monitor.incident_bots)
    done = ApplyResult()
    for item in result.objectives:
        metric = item.objective.metric
        key = IncidentKey(result.model, result.version, f"slo:{metric}")
        runbook = runbook_url(server, repository, branch, monitor.runbooks, metric)
        unknown = no_verdict(item, monitor.min_requests) if item.alert == "none" else None
        if unknown is not None:  # too little evidence: an open incident says so, stays open
            body = incident_body(result, item, runbook, run_url, unknown)
            done.incidents[metric] = update_open(client, repository, key, body=body, bots=bots)
            if done.incidents[metric].action == "updated":
                say(f"incident kept open: {metric} has no verdict ({unknown})")
            continue
        if item.alert == "none":
            closed = close_on_recovery(
                client,
                repository,
                key,
                comment=f"Recovered: {metric} of {result.model} {result.version} meets its "
                "objective again (ml-ci monitor).",
                bots=bots,
            )
            done.incidents[metric] = closed
            continue
        title = f"ml-ci {item.alert}: {result.model} {result.version} {metric} misses its objective"
        done.incidents[metric] = open_or_update(
            client,
            repository,
            key,
            title=title,
            body=incident_body(result, item, runbook, run_url),
            labels=tuple(monitor.labels),
            bots=bots,
        )
        say(f"incident {done.incidents[metric].action}: {title}")
    paged = any(item.alert == "page" for item in result.objectives)
    if paged and monitor.rollback == "auto":
        done.rolled_back = _rollback(result, config, root, push, say)
    done.stored, done.stored_drift = _store(result, root, push)
    if result.drift is not None:  # last: a dispatch GitHub refuses (exit 2) skips nothing else
        runbook = runbook_url(server, repository, branch, monitor.runbooks, "drift")
        done.drift = apply_drift(
            result, result.drift, config, client, repository, runbook, run_url, say
        )
    return done


def _store(result: MonitorResult, root: Path, push: bool) -> tuple[bool, bool]:
    """Keep the result beside the version when its alerts changed since the last one stored:
    an hourly run that finds the same state adds nothing (a note is rewritten whole on every
    append, so one line an hour would grow the repository by its square).

    The window's input drift, when computed, is also kept as an entry of kind ``drift`` (what
    the dashboard draws per column), under the same rule with a floor of one a day: when its
    verdict changed since the last drift entry or that one is at least :data:`DRIFT_EVERY`
    older than ``result.now``, so a 5-minute schedule adds at most one line a day.
    Returns (monitor entry stored, drift entry stored)."""
    from ml_ci.registry import load_registry
    from ml_ci.release.results import append_result, fetch_results, read_results

    state = load_registry(root).get(result.model)
    info = state.versions.get(result.version) if state else None
    if info is None:
        return False, False
    alerts = {item.objective.metric: item.alert for item in result.objectives}
    drift = result.drift.section.verdict if result.drift is not None else None
    if push:  # the checkout has no notes: the last stored result is the remote's
        fetch_results(root)
    stored = read_results(root, info.commit, "monitor")
    changed = not (
        stored and stored[-1].get("alerts") == alerts and stored[-1].get("drift") == drift
    )
    if changed:
        summary = result.to_json()
        append_result(
            root,
            info.commit,
            "monitor",
            {"alerts": alerts, "alert": summary["alert"], "window": summary["window"],
             "objectives": summary["objectives"], "drift": drift},
            now=result.now,
            push=push,
        )  # fmt: skip
    if result.drift is None or not _drift_due(result, read_results(root, info.commit, "drift")):
        return changed, False
    append_result(root, info.commit, "drift", drift_entry(result.drift), now=result.now, push=push)
    return changed, True


DRIFT_EVERY = 86_400  # seconds: the same drift verdict is stored at most once a day


def _drift_due(result: MonitorResult, stored: list[dict[str, Any]]) -> bool:
    """A drift entry is due: none stored, the verdict changed, or the last is a day old."""
    from ml_ci.clock import parse_time
    from ml_ci.errors import InputError

    if not stored or result.drift is None:
        return result.drift is not None
    last = stored[-1]
    if last.get("verdict") != result.drift.section.verdict:
        return True
    try:
        at = parse_time(str(last.get("at")), "at")
    except InputError:  # an entry we cannot date: store a fresh one
        return True
    return result.now - at >= DRIFT_EVERY


def drift_entry(drift: WindowDrift) -> dict[str, Any]:
    """What a stored drift entry holds: the verdict, the compared part of the window, and per
    column the method, value, retrain threshold and level."""
    from ml_ci.clock import iso

    return {
        "verdict": drift.section.verdict,
        "since": None if drift.since is None else iso(drift.since),
        "columns": [
            {"column": c.column, "method": c.method, "value": c.value,
             "threshold": c.threshold, "level": c.level}
            for c in drift.section.columns
        ],
    }  # fmt: skip


def _rollback(
    result: MonitorResult, config: Config, root: Path, push: bool, say: Callable[[str], None]
) -> dict[str, Any] | None:
    from ml_ci.registry import load_registry
    from ml_ci.release.promote import AssignSettings, rollback

    state = load_registry(root).get(result.model)
    holder = state.stages.get("production") if state else None
    if holder is None or holder.version != result.version:
        say(f"production no longer holds {result.version}: nothing to roll back")
        return None
    settings = AssignSettings(
        root=root, config=config, model=result.model, stage="production", push=push
    )
    done = rollback(settings, progress=say)
    return done.to_json()


def apply_drift(
    result: MonitorResult,
    drift: WindowDrift,
    config: Config,
    client: GitHubClient,
    repository: str,
    runbook: str,
    run_url: str | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The drift incident and the retraining dispatch (see the module doc)."""
    key = IncidentKey(result.model, result.version, "drift")
    verdict = drift.section.verdict
    retrain = config.monitor.retrain
    bots = tuple(config.monitor.incident_bots)
    if verdict == "pass":
        closed = close_on_recovery(
            client,
            repository,
            key,
            comment=f"Recovered: the input drift of {result.model} {result.version} is back "
            "within the retrain thresholds (ml-ci monitor).",
            bots=bots,
        )
        return {"verdict": verdict, "incident": closed.to_json(), "dispatched": None}
    open_issue = find_incident(client, repository, key, bots=bots)
    mark = dispatch_mark(open_issue.get("body") or "") if open_issue is not None else None
    dispatched = None
    if verdict == "retrain" and mark is None:
        from ml_ci.clock import iso
        from ml_ci.github.dispatch import dispatch_workflow

        dispatch_workflow(client, repository, retrain.workflow, retrain.ref)
        dispatched = {"workflow": retrain.workflow, "ref": retrain.ref}
        mark = {**dispatched, "at": iso(result.now)}
        say(f"dispatched {retrain.workflow} on {retrain.ref}: input drift at retrain")
    elif verdict == "retrain":
        say("input drift at retrain: retraining was dispatched for the open incident already")
    title = (
        f"ml-ci drift: {result.model} {result.version} input drift "
        f"{'needs human validation' if verdict == 'significant' else 'retraining'}"
    )
    incident = open_or_update(
        client,
        repository,
        key,
        title=title,
        body=drift_body(result, drift, config, runbook, run_url, dispatched is not None, mark),
        labels=tuple(config.monitor.labels),
        bots=bots,
    )
    say(f"incident {incident.action}: {title}")
    return {"verdict": verdict, "incident": incident.to_json(), "dispatched": dispatched}


def drift_body(
    result: MonitorResult,
    drift: WindowDrift,
    config: Config,
    runbook: str,
    run_url: str | None,
    dispatched: bool,
    mark: dict[str, str] | None = None,
) -> str:
    """The drift incident's text: the verdict, what was done, the drifted columns (escaped).
    ``mark``: the retraining dispatched for this incident (this run: ``dispatched``), kept in
    the body as :data:`DISPATCH_MARK` so the next runs know."""
    from ml_ci.clock import iso
    from ml_ci.report.safe import md_code, md_link

    section = drift.section
    retrain = config.monitor.retrain
    rows = (
        f"{section.rows_current} of the window's {drift.rows} requests (an evenly spaced sample)"
        if drift.sampled
        else f"the window's {section.rows_current} requests"
    )
    lines = [
        f"**{section.verdict}**: the input features of {md_code(result.model)} "
        f"{md_code(result.version)} (production) drifted from its training reference "
        f"{md_code(section.reference or '-')} (commit {md_code(drift.commit[:12])}).",
        "",
        f"Window {iso(result.window_start)} .. {iso(result.now)}: {rows}; "
        f"{section.share_drifted:.0%} of the compared columns drifted.",
        "",
    ]
    if mark is not None:
        workflow = f"{md_code(mark['workflow'])} on {md_code(mark['ref'])}"
    else:
        workflow = f"{md_code(retrain.workflow)} on {md_code(retrain.ref)}"
    if section.verdict == "significant":
        lines.append(
            "Retraining is **not** triggered at this level: look at the data (a broken feature "
            "pipeline looks like this too), then retrain or accept it."
        )
    if dispatched:
        lines.append(f"Retraining dispatched: {workflow}.")
    elif mark is not None:
        lines.append(
            f"Retraining ({workflow}) was dispatched at {md_code(mark['at'])} for this "
            "incident; it is not dispatched again until the incident closes."
        )
    elif section.verdict == "retrain":  # mark-less retrain: only when the dispatch failed
        lines.append(f"Retraining ({workflow}) was not dispatched.")
    from ml_ci.drift.watch import drift_tables

    lines += ["", *drift_tables(section, MAX_DRIFT_ROWS)]
    lines += ["", f"Runbook: {md_link('how to confirm and what to do', runbook)}"]
    if run_url:
        lines.append(f"Run: {md_link('the monitor run', run_url)}")
    lines += ["", "This issue is updated by every monitor run and closed when the drift passes."]
    if mark is not None:
        lines += ["", DISPATCH_MARK.format(**mark)]
    return "\n".join(lines)


DISPATCH_MARK = "<!-- ml-ci:dispatched workflow={workflow} ref={ref} at={at} -->"
# a whole line only: the body quotes data (column names) inside lines, never on one alone
_DISPATCH_FOUND = re.compile(
    r"^<!-- ml-ci:dispatched workflow=([A-Za-z0-9_.-]{1,100}\.ya?ml) ref=([A-Za-z0-9_./-]{1,200}) "
    r"at=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) -->\r?$",  # a body edited on github.com has CRLF line ends
    re.MULTILINE,
)


def dispatch_mark(body: str) -> dict[str, str] | None:
    """The retraining dispatch recorded in a drift incident's body (:data:`DISPATCH_MARK`);
    read only from an issue :func:`~ml_ci.github.incidents.find_incident` trusts."""
    found = _DISPATCH_FOUND.search(body)
    if found is None:
        return None
    workflow, ref, at = found.groups()
    return {"workflow": workflow, "ref": ref, "at": at}
