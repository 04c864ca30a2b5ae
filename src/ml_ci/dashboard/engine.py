"""``ml-ci dashboard``: one static, self-contained HTML page of the models in production.

Data, all read at build time (the page makes no request when viewed):

* the registry's git tags (:func:`ml_ci.registry.load_registry`): per model, the
  versions, a circle per tag event and a band per stage holding. Who holds a stage after each
  event is the registry's own rule, applied to every prefix of the history
  (:func:`~ml_ci.registry.build_state`), so rollbacks and unassignments show as the
  registry resolves them;
* the results stored beside each version (:func:`ml_ci.release.results.read_results`):
  canary verdicts with their looks, monitor alert changes, drift entries;
* the serving logs of the production version over ``monitor.window``, bucketed once at
  ``monitor.bucket`` (the monitor's reader), then per ``--bucket`` (an hour by default):
  each objective's value; for request objectives the burn rate of that bucket,
  ``(bad / total) / budget`` (:func:`ml_ci.monitor.burn.burn_rates` of
  :func:`~ml_ci.monitor.burn.window_sums`), and the budget spent since the window began,
  ``cumsum(bad) / (budget * cumsum(total))``, whose last point is the monitor's
  ``budget_spent``. The current status of each objective is the monitor's own
  (:func:`ml_ci.monitor.engine.request_objective` / ``quality_objective``);
* open incidents (``--repo`` and a token): :func:`ml_ci.github.incidents.list_incidents`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.config import Config
from ml_ci.dashboard.charts import Event, Held, series_chart, timeline_chart
from ml_ci.dashboard.view import Dashboard, ModelView, ObjectiveView
from ml_ci.errors import InputError

if TYPE_CHECKING:
    from ml_ci.github.client import GitHubClient
    from ml_ci.registry import ModelState

PAGE = "index.html"


@dataclass
class DashboardSettings:
    config: Config
    base: Path  # folder that relative logs.path is resolved from
    root: Path  # the git repository (registry tags and results)
    output: Path
    now: float
    bucket: str = "1h"
    logs: str | None = None
    version: str | None = None
    repo: str | None = None
    client: GitHubClient | None = None
    server_url: str = "https://github.com"
    clock: float | None = None  # the real time (rows after it are in the future); None: now


def _iso(seconds: float) -> str:
    from ml_ci.canary.engine import iso

    return iso(seconds)


def _epoch(text: Any) -> float | None:
    from ml_ci.canary.engine import parse_time

    try:
        return parse_time(str(text), "at")
    except InputError:
        return None


# ---------------------------------------------------------------------- registry
def _row(state: ModelState, tag: Any) -> str:
    parsed = tag.parsed
    if parsed.version:
        return str(parsed.version)
    if parsed.action in ("assign", "unassign"):
        owner = state.version_at(tag.commit)
        return owner.version if owner else str(tag.commit)[:12]
    return "(model)"


def stage_spans(state: ModelState, end: float) -> list[Held]:
    """Who held each stage when: the registry's rules applied after every event."""
    from ml_ci.registry import build_state

    spans: list[Held] = []
    holding: dict[str, tuple[str, float]] = {}
    for index, tag in enumerate(state.history):
        now = build_state(state.history[: index + 1])[state.name].stages
        holders = {stage: h.version for stage, h in now.items()}
        for stage, (version, since) in list(holding.items()):
            if holders.get(stage) != version:
                spans.append(Held(stage, version, since, tag.time))
                del holding[stage]
        for stage, version in holders.items():
            holding.setdefault(stage, (version, tag.time))
    spans += [Held(stage, version, since, end) for stage, (version, since) in holding.items()]
    return spans


def model_view(root: Path, state: ModelState, end: float) -> ModelView:
    from ml_ci.release.results import read_results

    versions = sorted(state.versions.values(), key=lambda v: v.registered_at)
    rows = [v.version for v in versions]
    events = []
    for tag in state.history:
        row = _row(state, tag)
        if row not in rows:
            rows.append(row)
        events.append(Event(tag.time, row, tag.parsed.action, f"{tag.name} ({_iso(tag.time)})"))
    # tags newer than --now (a look back at an earlier window) still show: the axis reaches them
    end = max([end, *(float(t.time) for t in state.history)])
    spans = stage_spans(state, end)
    for span in spans:
        if span.row not in rows:
            rows.append(span.row)
    view = ModelView(
        name=state.name,
        deprecated=state.deprecated,
        stages={s.stage: s.version for s in sorted(state.stages.values(), key=lambda s: s.stage)},
        versions=[
            {
                "version": v.version,
                "commit": v.commit,
                "registered": _iso(v.registered_at),
                "active": v.active,
            }
            for v in versions
        ],
        timeline=timeline_chart(f"{state.name}: versions and stages", rows, events, spans, end),
        events=[
            {
                "time": _iso(t.time),
                "tag": t.name,
                "action": t.parsed.action,
                "stage": t.parsed.stage,
                "row": _row(state, t),
            }
            for t in state.history
        ],
    )
    for info in versions:
        for entry in read_results(root, info.commit):
            kind = entry.get("kind")
            if kind == "canary":
                _canary(view, info.version, entry)
            elif kind == "monitor":
                alerts = entry.get("alerts")
                view.monitor.append(
                    {
                        "version": info.version,
                        "at": str(entry.get("at", "")),
                        "alert": str(entry.get("alert", "")),
                        "alerts": alerts if isinstance(alerts, dict) else {},
                    }
                )
        _drift(view, info.version, read_results(root, info.commit, "drift"))
    return view


def _canary(view: ModelView, version: str, entry: dict[str, Any]) -> None:
    looks = [look for look in entry.get("looks") or [] if isinstance(look, dict)]
    view.canary.append(
        {
            "version": version,
            "at": str(entry.get("at", "")),
            "verdict": str(entry.get("verdict", "")),
            "decided_at": entry.get("decided_at"),
            "looks": len(looks),
        }
    )
    times = [_epoch(look.get("end")) for look in looks]
    kept = [(t, look) for t, look in zip(times, looks, strict=True) if t is not None]
    if not kept:
        return
    numbers = [
        [_number(look.get(key)) for _t, look in kept] for key in ("n_canary", "n_production")
    ]
    view.canary_charts.append(
        series_chart(
            f"canary {version} at {entry.get('at', '')}: requests per look",
            [t for t, _ in kept],
            numbers,
            ["canary", "production"],
            start=kept[0][0],
            end=kept[-1][0],
        )
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _drift(view: ModelView, version: str, entries: list[dict[str, Any]]) -> None:
    """One chart per version: each column's drift value per stored drift result (entries of
    kind ``drift`` with ``columns: [{column, value, threshold}]``, the record's shape)."""
    series: dict[str, dict[float, float | None]] = {}
    times = []
    for entry in entries:
        at = _epoch(entry.get("at"))
        if at is None:
            continue
        times.append(at)
        for column in entry.get("columns") or []:
            if isinstance(column, dict) and isinstance(column.get("column"), str):
                series.setdefault(column["column"], {})[at] = _number(column.get("value"))
    if not series:
        return
    names = sorted(series)
    view.drift.append(
        series_chart(
            f"drift of {version} per column",
            times,
            [[series[name].get(t) for t in times] for name in names],
            names,
            start=min(times),
            end=max(times),
        )
    )


# ---------------------------------------------------------------------- objectives
def step_buckets(settings: DashboardSettings) -> int:
    """How many ``monitor.bucket`` buckets make one ``--bucket`` step."""
    from ml_ci.config.durations import parse_duration

    width = settings.config.monitor.seconds("bucket")
    try:
        step = parse_duration(settings.bucket)
    except ValueError as error:
        raise InputError(f"--bucket: {error}") from None
    if step < width or step % width:
        raise InputError(
            f"--bucket {settings.bucket}: must be a whole multiple of monitor.bucket "
            f"({settings.config.monitor.bucket})"
        )
    return step // width


def objectives(settings: DashboardSettings, dashboard: Dashboard) -> None:
    """The production version's objectives over the window, per ``settings.bucket``."""
    from datetime import timedelta

    import numpy as np

    from ml_ci.config.monitor import LATENCY_QUANTILES, REQUEST_METRICS
    from ml_ci.logs import Window, open_source
    from ml_ci.monitor.burn import burn_rates, window_sums
    from ml_ci.monitor.engine import (
        MonitorSettings,
        latency_quantile,
        quality_objective,
        request_objective,
        resolve_version,
        slow_counts,
    )

    config, monitor = settings.config, settings.config.monitor
    if not monitor.objectives:
        dashboard.notes.append("objectives: none configured (monitor.objectives)")
        return
    logs = config.logs
    if settings.logs is None and logs.path is None and logs.sql is None:
        dashboard.notes.append("objectives: no serving logs configured (logs.path or --logs)")
        return
    try:
        version = resolve_version(
            MonitorSettings(
                config, settings.base, settings.now, version=settings.version, root=settings.root
            )
        )
    except InputError:
        dashboard.notes.append(
            f"objectives: no version of {config.model.name} is in production (pass --version)"
        )
        return
    width = monitor.seconds("bucket")
    count = monitor.seconds("window") // width
    per = step_buckets(settings)
    origin = settings.now - count * width
    source = open_source(logs, settings.base, settings.logs)
    quality = any(o.metric not in REQUEST_METRICS for o in monitor.objectives)
    stats = source.bucketize(
        Window([version], settings.now, origin, settings.clock), origin, width, count, quality
    ).versions[version]
    dashboard.production = version
    dashboard.window = {"start": _iso(origin), "end": _iso(settings.now)}
    if stats.requests.sum() == 0:
        dashboard.notes.append(f"objectives: {version} served no request in the window")
        return
    ends = np.arange(count - 1, -1, -per)[::-1]  # the last bucket of each step, oldest first
    times = [float(origin + (e + 1) * width) for e in ends]
    start, end = origin, settings.now
    total = np.rint(stats.requests).astype(np.int64)
    total_step = window_sums(total, per)[ends]

    for objective in monitor.objectives:
        metric = objective.metric
        if metric in REQUEST_METRICS:
            done = request_objective(
                objective,
                stats,
                bucket=timedelta(seconds=width),
                window=timedelta(seconds=count * width),
                min_requests=monitor.min_requests,
            )
            bad = np.rint(
                stats.errors
                if metric == "error_rate"
                else slow_counts(stats.latency, objective.max or 0)
            ).astype(np.int64)
            bad_step = window_sums(bad, per)[ends]
            burn = burn_rates(bad_step, total_step, objective.budget)
            cum_bad, cum_total = np.cumsum(bad)[ends], np.cumsum(total)[ends]
            spent = [
                float(b / (objective.budget * t)) if t else None
                for b, t in zip(cum_bad, cum_total, strict=True)
            ]
            if metric in LATENCY_QUANTILES:
                values = [
                    latency_quantile(
                        stats.latency[max(e - per + 1, 0) : e + 1], LATENCY_QUANTILES[metric]
                    )
                    for e in ends
                ]
                limit = objective.max
            else:
                values = [
                    float(b / t) if t else None for b, t in zip(bad_step, total_step, strict=True)
                ]
                limit = objective.max
            view = ObjectiveView(metric, done.alert, done.payload)
            rules = [(limit, "#cf222e", f"objective {limit:g}")] if limit is not None else []
            view.charts.append(
                series_chart(
                    f"{metric} per {settings.bucket}",
                    times,
                    [values],
                    [metric],
                    start=start,
                    end=end,
                    rules=rules,
                )
            )
            view.charts.append(
                series_chart(
                    f"burn rate per {settings.bucket}",
                    times,
                    [[None if math.isnan(b) else float(b) for b in burn]],
                    ["burn"],
                    start=start,
                    end=end,
                    rules=[(1.0, "#9a6700", "burn 1")],
                )
            )
            view.charts.append(
                series_chart(
                    "error budget spent",
                    times,
                    [spent],
                    ["spent"],
                    start=start,
                    end=end,
                    rules=[(1.0, "#cf222e", "budget")],
                )
            )
        else:
            try:
                done = quality_objective(
                    objective,
                    stats,
                    recent_buckets=monitor.seconds("recent") // width,
                    alpha=monitor.alpha,
                    min_coverage=monitor.min_coverage,
                    min_requests=monitor.min_requests,
                    promised=None,
                )
            except InputError:
                dashboard.notes.append(
                    f"objectives: {metric} uses a margin; its line needs the release record"
                )
                continue
            correct = window_sums(np.rint(stats.correct).astype(np.int64), per)[ends]
            labelled = window_sums(np.rint(stats.labelled).astype(np.int64), per)[ends]
            values = [float(c / n) if n else None for c, n in zip(correct, labelled, strict=True)]
            minimum = done.payload["objective"]["min"]
            view = ObjectiveView(metric, done.alert, done.payload)
            view.charts.append(
                series_chart(
                    f"{metric} per {settings.bucket} (outcomes by arrival)",
                    times,
                    [values],
                    [metric],
                    start=start,
                    end=end,
                    rules=[(minimum, "#cf222e", f"objective {minimum:g}")],
                )
            )
        dashboard.objectives.append(view)


# ---------------------------------------------------------------------- the whole page
def build(settings: DashboardSettings, progress: Callable[[str], None] | None = None) -> Dashboard:
    """Everything the page shows (no file written)."""
    from ml_ci.registry import load_registry

    say = progress or (lambda _message: None)
    step_buckets(settings)  # a bad --bucket is an error before anything is read
    registry = load_registry(settings.root)
    dashboard = Dashboard(
        generated=_iso(settings.now),
        models=[
            model_view(settings.root, registry[name], settings.now) for name in sorted(registry)
        ],
    )
    if not registry:
        dashboard.notes.append(f"registry: no model tags in {settings.root}")
    if not any(m.drift for m in dashboard.models):
        dashboard.notes.append("drift per column: no drift results stored beside any version")
    say("reading the serving logs for the objectives")
    objectives(settings, dashboard)
    if settings.repo and settings.client is not None:
        from ml_ci.github.incidents import list_incidents

        dashboard.incidents = list_incidents(
            settings.client, settings.repo, bots=tuple(settings.config.monitor.incident_bots)
        )
    else:
        dashboard.notes.append("incidents: not fetched (offline)")
    return dashboard


def execute(
    settings: DashboardSettings, progress: Callable[[str], None] | None = None
) -> Dashboard:
    """Build the dashboard and write ``output/index.html``."""
    from ml_ci.dashboard.render import render_html

    dashboard = build(settings, progress)
    try:
        settings.output.mkdir(parents=True, exist_ok=True)
        page = settings.output / PAGE
        dashboard.files = [str(page)]
        page.write_text(render_html(dashboard, settings.server_url), encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"{settings.output}: cannot write the dashboard ({error.strerror}); pick another --output"
        ) from None
    return dashboard
