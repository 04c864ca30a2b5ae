"""Request-based objectives as Prometheus recording and alerting rules (``--export-rules``).

A scheduled workflow runs late and GitHub disables it after 60 days without activity, so it
is no pager. The same objectives, written as Prometheus rules the way sloth and Pyrra write
them, page from the serving side in real time; the workflow keeps tickets, rollbacks and
retraining. The arithmetic is :mod:`ml_ci.monitor.burn`'s, in PromQL:

* recording rules ``ml_ci:slo_bad_ratio:rate<w>`` = bad / all requests over each window ``w``
  the alert rules use (``rate()`` here is the usual Prometheus way; these rules run beside
  ml-ci, they do not decide canaries);
* ``errors``: bad = ``<errors_total>``; latency objective ``latency_pXX_ms <= T``: bad = the
  requests slower than ``T`` = all - the histogram bucket ``le`` = ``T`` (``T`` must be a bucket
  boundary of the histogram; ``le`` is matched as ``200`` or ``200.0``);
* an alert fires when the ratio over the long AND the short window of a rule exceed
  ``threshold * budget`` (e.g. ``14.4 * 0.001``), with at least ``min_requests`` requests in the
  short window; ``severity`` is ``page`` or ``ticket``.

The serving side's metric names and the label that selects the model are configurable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from ml_ci.monitor.burn import WORKBOOK_RULES, AlertRule


@dataclass(frozen=True)
class PromMetrics:
    """Names the serving side exports (Prometheus client conventions)."""

    requests: str = "ml_requests_total"  # counter: requests served
    errors: str = "ml_request_errors_total"  # counter: failed requests
    latency: str = "ml_request_latency_ms"  # histogram in ms: <name>_bucket{le}, <name>_count
    selector: str = ""  # extra label matchers, e.g. 'model="churn"'


@dataclass(frozen=True)
class RequestObjective:
    """``metric`` is ``error_rate`` or ``latency_pXX_ms``; ``budget`` the allowed bad share."""

    metric: str
    budget: float
    threshold_ms: float | None = None  # latency objectives: slower than this is bad


def promql_duration(span: timedelta) -> str:
    """``1h``, ``30m``, ``3d``: the largest unit that divides the span."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _matchers(*parts: str) -> str:
    inner = ",".join(part for part in parts if part)
    return "{" + inner + "}" if inner else ""


def _le(threshold: float) -> str:
    text = f"{threshold:g}"
    if not re.fullmatch(r"[0-9.e+-]+", text):
        raise ValueError(f"latency threshold {threshold!r} is not a number")
    return 'le=~"' + re.escape(text).replace("\\", "\\\\") + r'(\\.0+)?"'


def bad_ratio_expr(objective: RequestObjective, names: PromMetrics, window: str) -> str:
    """PromQL of the share of bad requests over ``window``."""
    sel = _matchers(names.selector)
    if objective.metric == "error_rate":
        return (
            f"sum(rate({names.errors}{sel}[{window}])) / sum(rate({names.requests}{sel}[{window}]))"
        )
    if objective.threshold_ms is None:
        raise ValueError(f"{objective.metric}: a latency objective needs threshold_ms")
    fast = _matchers(names.selector, _le(objective.threshold_ms))
    count = f"sum(rate({names.latency}_count{sel}[{window}]))"
    return f"1 - sum(rate({names.latency}_bucket{fast}[{window}])) / {count}"


def export_rules(
    model: str,
    objectives: list[RequestObjective],
    *,
    names: PromMetrics,
    window: timedelta,
    min_requests: int,
    rules: tuple[AlertRule, ...] = WORKBOOK_RULES,
) -> dict[str, object]:
    """The rule file (as a mapping to dump as YAML): one group per objective."""
    groups = []
    sel = _matchers(names.selector)
    for objective in objectives:
        labels = {"model": model, "slo": objective.metric}
        spans = sorted({span for rule in rules for span in (rule.long, rule.short)})
        recorded = [
            {
                "record": f"ml_ci:slo_bad_ratio:rate{promql_duration(span)}",
                "expr": bad_ratio_expr(objective, names, promql_duration(span)),
                "labels": labels,
            }
            for span in spans
        ]
        alerts = []
        for severity in ("page", "ticket"):
            pairs = []
            for rule in rules:
                if rule.alert != severity:
                    continue
                limit = rule.threshold(window) * objective.budget
                long_w, short_w = promql_duration(rule.long), promql_duration(rule.short)
                own = _matchers(f'model="{model}"', f'slo="{objective.metric}"')
                long_ratio = f"ml_ci:slo_bad_ratio:rate{long_w}{own}"
                short_ratio = f"ml_ci:slo_bad_ratio:rate{short_w}{own}"
                enough = f"sum(increase({names.requests}{sel}[{short_w}])) >= {min_requests}"
                pairs.append(
                    f"(({long_ratio} > {limit:.10g})"
                    f" and ({short_ratio} > {limit:.10g})"
                    f" and on() ({enough}))"
                )
            if pairs:
                alerts.append(
                    {
                        "alert": f"MlCiSlo{severity.capitalize()}",
                        "expr": " or ".join(pairs),
                        "labels": {**labels, "severity": severity},
                        "annotations": {
                            "summary": f"{model}: {objective.metric} is burning its error "
                            f"budget ({severity})",
                        },
                    }
                )
        groups.append({"name": f"ml-ci-{model}-{objective.metric}", "rules": recorded + alerts})
    return {"groups": groups}
