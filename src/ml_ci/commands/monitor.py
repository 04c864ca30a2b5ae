"""``ml-ci monitor``: hold the production version to its objectives over a rolling window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml_ci.commands._common import acting_options, config_option, serving_options
from ml_ci.console import Console, json_option


@click.command("monitor")
@click.option(
    "--version", "version", default=None, help="Version (default: the registry's production)."
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The version's evaluation record (for objectives with a margin).",
)
@click.option(
    "--export-rules",
    "export_rules",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the request objectives as Prometheus rules to this file and stop.",
)
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Act: open/update/close one incident per objective; roll back on a page "
    "(monitor.rollback: auto); on input drift, dispatch monitor.retrain once (retrain) and "
    "keep one drift incident. Needs GITHUB_TOKEN and --repo.",
)
@serving_options
@acting_options
@config_option
@json_option
def command(
    logs: str | None,
    version: str | None,
    now: str | None,
    record_path: Path | None,
    export_rules: Path | None,
    apply_: bool,
    repo: str | None,
    push: bool,
    config_path: Path | None,
    json_mode: bool,
) -> None:
    """Evaluate monitor.objectives on the serving logs; exit 1 on a page.

    Request objectives (error_rate, latency_pXX_ms) follow the SRE workbook's multiwindow,
    multi-burn-rate alerts; quality objectives (accuracy) a one-sided test on the outcomes
    that have arrived, with their coverage. Input drift of the window against the version's
    training reference (drift.reference as committed at its commit) is reported, never paged.
    """
    import time

    from ml_ci.clock import parse_time
    from ml_ci.commands._common import optional_config
    from ml_ci.errors import GateFailed
    from ml_ci.monitor.engine import MonitorSettings, execute

    console = Console(json_mode=json_mode)
    config, found = optional_config(config_path, console.progress)
    if export_rules is not None:
        _export(config, export_rules, console)
        return
    settings = MonitorSettings(
        config=config,
        base=(found.parent if found is not None else Path.cwd()),
        now=parse_time(now, "--now") if now is not None else time.time(),
        logs=logs,
        version=version,
        promised=_promised(record_path),
        config_file=found,
        clock=time.time(),
    )
    result = execute(settings, progress=console.progress)
    payload = result.to_json()
    if apply_:
        payload["applied"] = _apply(result, config, repo, found, push, console)
    console.result(describe(payload), payload)
    if result.alert == "page":
        raise GateFailed(f"monitor: page for {result.model} {result.version}")


def _apply(
    result: Any, config: Any, repo: str | None, found: Path | None, push: bool, console: Console
) -> dict[str, Any]:
    from ml_ci.commands._common import acting_context
    from ml_ci.monitor.apply import apply

    acting = acting_context(repo, found, needs_repo="ml-ci monitor")
    client = acting.pop("client")
    assert client is not None
    done = apply(
        result,
        config,
        client=client,
        **acting,
        branch=config.baseline.default_branch,
        push=push,
        progress=console.progress,
    )
    return done.to_json()


def _promised(record_path: Path | None) -> dict[str, float]:
    """Point estimates the release record measured (metric -> candidate value, all rows)."""
    if record_path is None:
        return {}
    from ml_ci.record import load_record

    record = load_record(record_path)
    if record.compare is None:
        return {}
    return {
        m.name: m.candidate
        for m in record.compare.metrics
        if m.slice is None and m.candidate is not None
    }


def _export(config: Any, path: Path, console: Console) -> None:
    from datetime import timedelta

    import yaml

    from ml_ci.errors import InputError
    from ml_ci.monitor.rules import PromMetrics, RequestObjective, export_rules

    monitor = config.monitor
    objectives = [
        RequestObjective(o.metric, o.budget, o.max if o.metric != "error_rate" else None)
        for o in monitor.objectives
        if o.metric.startswith(("error_rate", "latency_"))
    ]
    if not objectives:
        raise InputError("monitor.objectives has no error_rate or latency objective to export")
    names = PromMetrics(**monitor.prometheus.model_dump())
    rules = export_rules(
        config.model.name,
        objectives,
        names=names,
        window=timedelta(seconds=monitor.seconds("window")),
        min_requests=monitor.min_requests,
    )
    try:
        path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot write the rules ({error.strerror})") from None
    groups = rules["groups"]
    assert isinstance(groups, list)
    count = sum(len(group["rules"]) for group in groups)
    console.result(
        f"wrote {count} Prometheus rules for {len(objectives)} objective(s) to {path}",
        {"path": str(path), "rules": count, "objectives": [o.metric for o in objectives]},
    )


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


def describe(payload: dict[str, Any]) -> str:
    lines = [
        f"monitor {payload['model']} {payload['version']}: alert {payload['alert']} "
        f"({payload['requests']} requests, {payload['window']['start']} .. "
        f"{payload['window']['end']})"
    ]
    for item in payload["objectives"]:
        if item["kind"] == "requests":
            spent = item["budget_spent"]
            burns = ", ".join(
                f"{b['long']}/{b['short']} {_fmt(b['long_burn'])}/{_fmt(b['short_burn'])}"
                f"{'!' if b['firing'] else ''}"
                for b in item["burn"]
            )
            lines.append(
                f"  {item['metric']:16} {item['alert']:6} value {_fmt(item['value'])} "
                f"(max {_fmt(item['objective']['max'])}); budget spent "
                f"{'-' if spent is None else f'{spent:.0%}'}; burn {burns}"
            )
        else:
            estimate = item.get("estimate")
            lines.append(
                f"  {item['metric']:16} {item['alert']:6} value {_fmt(item['value'])} "
                f"(min {_fmt(item['objective']['min'])}, upper bound {_fmt(item['upper'])}); "
                f"coverage {_fmt(item['coverage'])}; {_quality_state(item)}"
                + (
                    ""
                    if estimate is None
                    else f"; estimate {_fmt(estimate)} (CBPE, {item['estimated_rows']} rows "
                    "without outcome, never alerts)"
                )
            )
    lines += _describe_drift(payload)
    return "\n".join(lines)


def _quality_state(item: dict[str, Any]) -> str:
    """The worst window's state, naming that window and its figures when it is not the whole
    window (the line's value and bound are the whole window's)."""
    state = item["state"].replace("_", " ")
    name = item.get("state_window", "window")
    if name == "window":
        return str(state)
    view = item["windows"][name]
    return (
        f"{state} in the {name} part (value {_fmt(view['value'])}, upper bound "
        f"{_fmt(view['upper'])}, coverage {_fmt(view['coverage'])})"
    )


def _describe_drift(payload: dict[str, Any]) -> list[str]:
    """The input drift lines: the verdict and the drifted columns, or why there is none."""
    drift = payload.get("drift")
    if drift is None:
        reason = payload.get("drift_reason")
        return [f"  input drift: not available ({_one_line(reason)})"] if reason else []
    columns = drift["columns"]
    drifted = [c for c in columns if c["drifted"]]
    rows = (
        f"{drift['rows_current']} of {drift['window_rows']} requests"
        if drift["sampled"]
        else (f"{drift['rows_current']} requests")
    )
    lines = [
        f"  input drift: {drift['verdict']} ({len(drifted)} of {len(columns)} columns drifted; "
        f"{rows} against the reference at {drift['commit'][:12]})"
    ]
    if drift.get("absent_from_logs"):
        names = ", ".join(_one_line(name) for name in drift["absent_from_logs"])
        lines.append(f"    not in the serving logs, so not checked (drift.columns): {names}")
    for c in sorted(drifted, key=lambda c: -(c["value"] or 0.0)):
        lines.append(
            f"    {_one_line(c['column']):16} {c['level']:11} {c['method']} {_fmt(c['value'])} "
            f"(retrain at {c['threshold']:g})"
        )
    lines += [
        f"    quality {f['check']} ({_one_line(f['column'] or '-')}): {f['verdict']}"
        + (f" ({_one_line(f['detail'])})" if f.get("detail") else "")
        for f in drift["quality"]
        if f["verdict"] == "fail"
    ]
    return lines


def _one_line(text: str) -> str:
    """A name from the data on one line (a newline in it must not forge an output line)."""
    return " ".join(str(text).split())
