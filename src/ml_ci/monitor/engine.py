"""``ml-ci monitor``: the production version against its objectives over a rolling window.

The serving logs of the version are reduced once to ``monitor.bucket``-wide buckets covering
``monitor.window`` up to ``now`` (:func:`ml_ci.logs.files.bucketize`, the canary's reader).
Request objectives (errors, latency) are error budgets judged by the workbook's multiwindow
burn-rate rules (:mod:`ml_ci.monitor.burn`); quality objectives by a one-sided test on the
outcomes that have arrived, over the window and over the last ``monitor.recent``
(:mod:`ml_ci.monitor.quality`). The overall alert is the worst objective's.

Input drift (:func:`window_drift`) compares the window's requests with the training reference
of the version: ``drift.reference`` as committed at the version's commit (the registry maps
version -> commit), read at that commit (git or DVC), under the working tree's ``drift``
thresholds. It is reported, never an alert: the exit code stays the objectives'.

Latency in the logs is counted in fixed bins (2 % wide); a request in the bin that straddles
an objective's threshold counts as slow, so the bad share is at worst slightly overstated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ml_ci.config import Config
from ml_ci.config.monitor import LATENCY_QUANTILES, Objective
from ml_ci.errors import InputError
from ml_ci.logs.buckets import LATENCY_EDGES_MS, Stats
from ml_ci.monitor.burn import WORKBOOK_RULES, Alert, BudgetStatus, evaluate_budget, worst
from ml_ci.monitor.quality import QualityCounts, QualityStatus, evaluate_quality

if TYPE_CHECKING:
    from ml_ci.logs import LogSource, Window
    from ml_ci.record.drift import DriftSection

Array = npt.NDArray[np.float64]


@dataclass
class MonitorSettings:
    config: Config
    base: Path  # folder that relative logs.path is resolved from
    now: float  # epoch seconds, UTC
    logs: str | None = None
    version: str | None = None
    root: Path = field(default_factory=Path.cwd)
    promised: dict[str, float] = field(default_factory=dict)  # metric -> release estimate
    config_file: Path | None = None  # the ml-ci.yaml read (its path in the repository matters)
    clock: float | None = None  # the real time (rows after it are in the future); None: now


@dataclass
class ObjectiveResult:
    objective: Objective
    alert: Alert
    payload: dict[str, Any]


@dataclass
class WindowDrift:
    """Input drift of the window: the drift section, the commit whose reference it used, the
    window's requests and whether the rows compared were a sample of them."""

    section: DriftSection
    commit: str
    rows: int
    sampled: bool
    since: float | None = None  # the compared part of the window: [since, now]
    absent: list[str] = field(default_factory=list)  # drift.columns the logs do not hold

    def to_json(self) -> dict[str, Any]:
        from ml_ci.clock import iso

        return {
            "commit": self.commit,
            "since": None if self.since is None else iso(self.since),
            "absent_from_logs": self.absent,
            "window_rows": self.rows,
            "sampled": self.sampled,
            **self.section.model_dump(mode="json"),
        }


@dataclass
class MonitorResult:
    model: str
    version: str
    window_start: float
    now: float
    requests: int
    alert: Alert
    objectives: list[ObjectiveResult]
    drift: WindowDrift | None = None
    drift_reason: str | None = None  # why there is no drift section

    def to_json(self) -> dict[str, Any]:
        from ml_ci.clock import iso

        return {
            "model": self.model,
            "version": self.version,
            "window": {"start": iso(self.window_start), "end": iso(self.now)},
            "requests": self.requests,
            "alert": self.alert,
            "objectives": [
                {"metric": r.objective.metric, "alert": r.alert, **r.payload}
                for r in self.objectives
            ],
            "drift": self.drift.to_json() if self.drift is not None else None,
            "drift_reason": self.drift_reason,
        }


def slow_counts(latency: Array, threshold_ms: float) -> Array:
    """Requests per bucket in latency bins that reach above ``threshold_ms`` (bins
    ``[edges[j], edges[j+1])`` with ``edges[j+1] > threshold``: a straddling bin counts)."""
    slow_bins = LATENCY_EDGES_MS[1:] > threshold_ms
    counts: Array = latency[..., slow_bins].sum(axis=-1)
    return counts


def latency_quantile(latency: Array, q: float) -> float | None:
    """The upper edge of the bin holding the ``q`` quantile of all requests (None if none)."""
    totals = latency.sum(axis=0)
    n = totals.sum()
    if n == 0:
        return None
    index = int(np.searchsorted(np.cumsum(totals), q * n, side="left"))
    edge = float(LATENCY_EDGES_MS[min(index + 1, len(LATENCY_EDGES_MS) - 1)])
    return edge if np.isfinite(edge) else float(LATENCY_EDGES_MS[-2])


def _rules_within(window: timedelta) -> tuple[Any, ...]:
    return tuple(rule for rule in WORKBOOK_RULES if rule.long <= window)


def _clopper_pearson(bad: int, total: int, alpha: float = 0.05) -> tuple[float, float]:
    from scipy.stats import beta

    low = 0.0 if bad == 0 else float(beta.ppf(alpha / 2, bad, total - bad + 1))
    high = 1.0 if bad == total else float(beta.ppf(1 - alpha / 2, bad + 1, total - bad))
    return low, high


def request_objective(
    objective: Objective, stats: Stats, *, bucket: timedelta, window: timedelta, min_requests: int
) -> ObjectiveResult:
    """Budget, burn rates and alert of an error or latency objective."""
    if objective.metric == "error_rate":
        bad = stats.errors
    else:
        assert objective.max is not None
        bad = slow_counts(stats.latency, objective.max)
    status: BudgetStatus = evaluate_budget(
        np.rint(bad).astype(np.int64),
        np.rint(stats.requests).astype(np.int64),
        budget=objective.budget,
        bucket=bucket,
        window=window,
        min_requests=min_requests,
        rules=_rules_within(window),
    )
    ratio = status.bad_ratio
    low, high = _clopper_pearson(status.bad, status.total) if status.total else (None, None)
    payload: dict[str, Any] = {
        "kind": "requests",
        "objective": {"max": objective.max},
        "bad_definition": "error"
        if objective.metric == "error_rate"
        else f"latency > {objective.max:g} ms",
        "requests": status.total,
        "bad": status.bad,
        "bad_share": ratio,
        "bad_share_interval": [low, high],
        "budget": objective.budget,
        "budget_spent": status.spent,
        "burn": [
            {
                "alert": rule.rule.alert,
                "long": _duration(rule.rule.long),
                "short": _duration(rule.rule.short),
                "threshold": round(rule.threshold, 6),
                "long_burn": rule.long_burn,
                "short_burn": rule.short_burn,
                "long_requests": rule.long_requests,
                "short_requests": rule.short_requests,
                "firing": rule.firing,
            }
            for rule in status.rules
        ],
    }
    if objective.metric in LATENCY_QUANTILES:
        payload["value"] = latency_quantile(stats.latency, LATENCY_QUANTILES[objective.metric])
    else:
        payload["value"] = ratio
    return ObjectiveResult(objective, status.alert, payload)


def _duration(span: timedelta) -> str:
    from ml_ci.monitor.rules import promql_duration

    return promql_duration(span)


def _quality_counts(stats: Stats, last: int) -> QualityCounts:
    """The last ``last`` buckets; the CBPE sums are by request time as of now, the outcomes by
    arrival, so each scored row counts once (:mod:`ml_ci.logs.buckets`)."""
    part = slice(-last, None)
    return QualityCounts(
        total=int(stats.requests[part].sum()),
        labelled=int(stats.labelled[part].sum()),
        correct=int(stats.correct[part].sum()),
        expected_correct_unlabelled=float(stats.expected_correct[part].sum()),
        unlabelled_scored=round(float(stats.unlabelled_scored[part].sum())),
    )


def quality_objective(
    objective: Objective,
    stats: Stats,
    *,
    recent_buckets: int,
    alpha: float,
    min_coverage: float,
    min_requests: int,
    promised: float | None,
) -> ObjectiveResult:
    """The one-sided test of ``accuracy >= minimum`` over the window and the recent part, with
    the CBPE ``estimate`` beside the measured ``value`` (``estimate_rows`` rows, of which
    ``estimated_rows`` without an outcome); the estimate never sets the alert."""
    minimum = objective.min
    if minimum is None:
        if promised is None:
            raise InputError(
                f"monitor.objectives {objective.metric}: margin needs the release record's "
                "estimate; pass --record PATH (the version's evaluation record) or use min"
            )
        assert objective.margin is not None
        minimum = promised - objective.margin
    statuses: dict[str, QualityStatus] = {}
    for name, last in (("window", len(stats.requests)), ("recent", recent_buckets)):
        counts = _quality_counts(stats, last)
        statuses[name] = evaluate_quality(
            counts,
            minimum=minimum,
            alpha=alpha,
            min_coverage=min_coverage,
            page_below=objective.page_below,
            min_labelled=min_requests,
        )
    alert = worst([s.alert for s in statuses.values()])

    def view(status: QualityStatus) -> dict[str, Any]:
        return {
            "value": status.value,
            "upper": status.upper,
            "coverage": status.coverage,
            "estimate": status.estimate,
            "estimate_rows": status.estimate_rows,
            "estimated_rows": status.estimated_rows,
            "state": status.state,
            "alert": status.alert,
        }

    window = statuses["window"]
    state_window = worst_state({name: status.state for name, status in statuses.items()})
    payload = {
        "kind": "quality",
        "objective": {"min": minimum, "page_below": objective.page_below},
        "value": window.value,
        "upper": window.upper,
        "coverage": window.coverage,
        "estimate": window.estimate,
        "estimate_rows": window.estimate_rows,
        "estimated_rows": window.estimated_rows,
        "state": statuses[state_window].state,
        "state_window": state_window,
        "windows": {name: view(status) for name, status in statuses.items()},
    }
    return ObjectiveResult(objective, alert, payload)


# worst first: a breach anywhere, then a window that cannot judge, then no traffic, then ok
STATE_ORDER: tuple[str, ...] = ("breached", "not_enough_outcomes", "no_requests", "ok")


def worst_state(states: dict[str, str]) -> str:
    """The name of the window whose state comes first in :data:`STATE_ORDER` (the first
    such window on a tie: the whole window before the recent part)."""
    return min(states, key=lambda name: STATE_ORDER.index(states[name]))


def resolve_version(settings: MonitorSettings) -> str:
    if settings.version is not None:
        return settings.version
    from ml_ci.gitutil import repo_root
    from ml_ci.registry import version_at_stage

    return version_at_stage(repo_root(settings.root), settings.config.model.name, "production")[0]


def execute(
    settings: MonitorSettings, progress: Callable[[str], None] | None = None
) -> MonitorResult:
    """Evaluate every objective of ``monitor`` (see the module doc)."""
    from ml_ci.logs import Window, open_source

    config = settings.config.monitor
    if not config.objectives:
        raise InputError("monitor.objectives is empty: add an objective to ml-ci.yaml")
    version = resolve_version(settings)
    width = config.seconds("bucket")
    count = config.seconds("window") // width
    origin = settings.now - count * width
    source = open_source(settings.config.logs, settings.base, settings.logs)
    if progress:
        progress(f"reading serving logs from {source.name} for {version}")
    quality = any(o.metric not in ("error_rate", *LATENCY_QUANTILES) for o in config.objectives)
    window = Window([version], settings.now, origin, settings.clock)
    buckets = source.bucketize(window, origin, width, count, quality)
    stats = buckets.versions[version]
    requests = int(stats.requests.sum())
    if requests == 0:
        from ml_ci.clock import iso

        source.first_request(
            version, Window([version], settings.now, None, settings.clock)
        )  # names the cause
        raise InputError(
            f"logs {source.name}: version {version!r} served no request between "
            f"{iso(origin)} and {iso(settings.now)}; check --now and the logs"
        )
    bucket = timedelta(seconds=width)
    span = timedelta(seconds=count * width)
    results = []
    for objective in config.objectives:
        if objective.metric in ("error_rate", *LATENCY_QUANTILES):
            results.append(
                request_objective(
                    objective, stats, bucket=bucket, window=span, min_requests=config.min_requests
                )
            )
        else:
            results.append(
                quality_objective(
                    objective,
                    stats,
                    recent_buckets=config.seconds("recent") // width,
                    alpha=config.alpha,
                    min_coverage=config.min_coverage,
                    min_requests=config.min_requests,
                    promised=settings.promised.get(objective.metric),
                )
            )
    # drift looks at the last drift_window only: a recent shift is not diluted by a month
    drift_since = max(origin, settings.now - config.seconds("drift_window"))
    drift_span = Window([version], settings.now, drift_since, settings.clock)
    drift, reason = window_drift(settings, version, source, drift_span, progress)
    return MonitorResult(
        model=settings.config.model.name,
        version=version,
        window_start=origin,
        now=settings.now,
        requests=requests,
        alert=worst([r.alert for r in results]),
        objectives=results,
        drift=drift,
        drift_reason=reason,
    )


def window_drift(
    settings: MonitorSettings,
    version: str,
    source: LogSource,
    window: Window,
    progress: Callable[[str], None] | None = None,
) -> tuple[WindowDrift | None, str | None]:
    """Input drift of ``version``'s requests in ``window`` (see the module doc), or None and
    why not. A problem here (reference unreadable, no feature column, ...) is that reason,
    not an error: the objectives' alerts must come out whatever the drift check finds."""
    from ml_ci.errors import MlCiError

    try:
        return _window_drift(settings, version, source, window, progress)
    except MlCiError as error:
        return None, f"drift not computed: {error}"


def _window_drift(
    settings: MonitorSettings,
    version: str,
    source: LogSource,
    window: Window,
    progress: Callable[[str], None] | None,
) -> tuple[WindowDrift | None, str | None]:
    import pyarrow as pa

    from ml_ci.config import load_config_at
    from ml_ci.drift.engine import analyse
    from ml_ci.drift.sources import Table, load_table, parse_spec
    from ml_ci.gitutil import repo_root, resolve_ref
    from ml_ci.registry import load_registry

    say = progress or (lambda _message: None)
    if source.features(version, window, [], 1) is None:  # before reading any reference
        return None, "not available from Prometheus (it keeps no per-request feature columns)"
    try:
        root = repo_root(settings.root)
    except InputError:
        return None, "not in a git repository: the reference is read at the version's commit"
    state = load_registry(root).get(settings.config.model.name)
    info = state.versions.get(version) if state else None
    if info is None:
        return None, f"version {version!r} is not in the registry, so its commit is unknown"
    commit = info.commit
    names = _committed_configs(settings.config_file, root)
    found = next(
        ((name, c) for name in names if (c := load_config_at(root, commit, name)) is not None),
        None,
    )
    at_commit = f"at {version}'s commit {commit[:12]}"
    if found is None:
        return None, f"no {' and no '.join(names)} {at_commit}"
    relative, committed = found
    if committed.drift.reference is None:
        return None, f"no drift.reference in {relative} {at_commit}"
    spec = parse_spec(committed.drift.reference, cwd=root)
    branch = committed.baseline.default_branch
    pin = {branch: commit, f"origin/{branch}": commit}  # "main" meant main as of the version
    at = commit if spec.ref is None else resolve_ref(root, spec.ref, pin=pin, what=spec.label)
    say(f"reading the drift reference {spec.path} at {at[:12]}")
    reference = load_table(parse_spec(f"{spec.path}@{at}", cwd=root), cwd=root)
    drift = settings.config.drift
    candidates = drift.columns if drift.columns is not None else reference.column_names
    rows = source.features(version, window, candidates, settings.config.monitor.drift_rows)
    if rows is None:
        return None, "not available from Prometheus (it keeps no per-request feature columns)"
    names = [name for name in rows.table.column_names if name in reference.column_names]
    if not names:
        return None, f"no feature column of {spec.path} in the serving logs of {source.name}"
    if rows.table.num_rows == 0:
        return None, f"no request of {version} in the window"
    say(f"input drift: {len(names)} columns, {rows.table.num_rows} of {rows.rows} requests")
    # the reference's columns that the logs cannot hold (label, ids) are not missing features
    trained = Table.from_arrow(
        pa.table({name: reference.column(name) for name in names}), reference.label
    )
    current = Table.from_arrow(rows.table.select(names), f"serving logs of {version}")
    checked = drift.model_copy(
        update={
            "columns": None if drift.columns is None else names,
            "methods": {k: v for k, v in drift.methods.items() if k in names},
            "id_column": drift.id_column if drift.id_column in names else None,
        }
    )
    # a broken feature column (all missing, another type) is a failed finding, so the verdict
    # is significant (a person looks; nothing retrains on it) and the other columns still count
    section = analyse(trained, current, checked, progress=progress, current_faults="report")
    absent = [c for c in drift.columns or [] if c not in names]
    return WindowDrift(section, commit, rows.rows, rows.sampled, window.since, absent), None


def _committed_configs(path: Path | None, root: Path) -> list[str]:
    """Where the version's commit may hold its config, in order: the file read now (``--config
    ml-ci-sql.yaml``) under its path in the repository, then ``ml-ci.yaml`` beside it (a
    variant made after the release, or one outside the repository, is not the version's)."""
    from ml_ci.config import CONFIG_FILE

    if path is None:
        return [CONFIG_FILE]
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return [CONFIG_FILE]
    default = (relative.parent / CONFIG_FILE).as_posix()
    return list(dict.fromkeys([relative.as_posix(), default]))
