"""The canary section of the report (issue 13, item 7): the verdict and, per gate, its
interval narrowing over the looks.

Input: the ``ml-ci canary --json --replay`` payload (or one stored result of kind ``canary``
from :func:`ml_ci.release.results.read_results`: the same payload). Each look's gate has
``lower``/``upper`` (the anytime-valid interval of canary - production, or of
canary / production - 1 when relative; of the canary's own value for rule absolute) and
``estimate``. The margin line sits on the harmful side: ``+margin`` for a metric where higher
is worse (error rate, latency, Brier), ``-margin`` otherwise; rule ``absolute`` has none.

Drawings: :func:`mermaid_gate` (``xychart-beta``: lower, estimate, upper and margin as lines)
for markdown; :func:`svg_gate` (a band of lower..upper over the look index) for HTML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Any

from ml_ci.errors import InputError
from ml_ci.report.charts import _quote, _tick_label, mermaid_number, nice_ticks
from ml_ci.report.safe import plain

MAX_LOOKS = 300


@dataclass(frozen=True)
class GateTrack:
    """One gate over the looks (``None`` where the interval was not finite yet)."""

    metric: str
    rule: str
    margin: float | None
    relative: bool
    status: str
    lower: list[float | None]
    upper: list[float | None]
    estimate: list[float | None]
    margin_line: float | None

    @property
    def label(self) -> str:
        return f"{self.metric} (relative)" if self.relative else self.metric

    @property
    def last(self) -> tuple[float | None, float | None]:
        return self.lower[-1] if self.lower else None, self.upper[-1] if self.upper else None


@dataclass(frozen=True)
class CanaryView:
    verdict: str
    canary: str
    production: str
    decided_at: str | None
    looks: int
    ends: list[str]
    gates: list[GateTrack] = field(default_factory=list)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def harmful_margin(metric: str, rule: str, margin: Any) -> float | None:
    """Where a non-inferiority gate's interval must stay below (higher is worse) or above."""
    from ml_ci.config.canary import CANARY_METRICS

    value = _number(margin)
    if rule == "absolute" or value is None or metric not in CANARY_METRICS:
        return None
    return value if CANARY_METRICS[metric][1] else -value


def canary_view(payload: Any, source: str) -> CanaryView:
    """Check the payload's shape (one line naming ``source`` and the key otherwise)."""

    def need(container: Any, key: str, where: str) -> Any:
        if not isinstance(container, dict) or key not in container:
            raise InputError(
                f"{source}: {where}{key} is missing; pass the output of "
                "`ml-ci canary --replay --json`"
            )
        return container[key]

    verdict = need(payload, "verdict", "")
    looks = payload.get("looks") or []
    gates = need(payload, "gates", "")
    if not isinstance(looks, list) or not isinstance(gates, list):
        raise InputError(f"{source}: looks and gates must be lists; pass `ml-ci canary --json`")
    looks = looks[-MAX_LOOKS:]
    tracks = []
    for index, gate in enumerate(gates):
        metric = str(need(gate, "metric", f"gates[{index}]."))
        rule = str(gate.get("rule", "non_inferior"))
        series = []
        for number, look in enumerate(looks):
            found = [
                g
                for g in need(look, "gates", f"looks[{number}].")
                if isinstance(g, dict)
                and g.get("metric") == metric
                and bool(g.get("relative")) == bool(gate.get("relative"))
            ]
            series.append(found[0] if found else {})
        if not looks:  # a payload without --replay: the current interval only
            series = [gate]
        tracks.append(
            GateTrack(
                metric=metric,
                rule=rule,
                margin=_number(gate.get("margin")),
                relative=bool(gate.get("relative")),
                status=str(gate.get("status", "")),
                lower=[_number(s.get("lower")) for s in series],
                upper=[_number(s.get("upper")) for s in series],
                estimate=[_number(s.get("estimate")) for s in series],
                margin_line=harmful_margin(metric, rule, gate.get("margin")),
            )
        )
    return CanaryView(
        verdict=str(verdict),
        canary=str(payload.get("canary", "")),
        production=str(payload.get("production", "")),
        decided_at=str(payload["decided_at"]) if payload.get("decided_at") else None,
        looks=len(looks),
        ends=[str(look.get("end", "")) for look in looks],
        gates=tracks,
    )


def _span(track: GateTrack) -> tuple[float, float]:
    values = [0.0] + [
        v for v in [*track.lower, *track.upper, *track.estimate, track.margin_line] if v is not None
    ]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 0.01
    return low - pad, high + pad


def _finite_looks(track: GateTrack) -> list[int]:
    return [
        i
        for i in range(len(track.lower))
        if track.lower[i] is not None and track.upper[i] is not None
    ]


def mermaid_gate(track: GateTrack) -> str | None:
    """``xychart-beta``: the interval's bounds, the estimate and the margin over the looks
    (looks whose interval is not finite yet are left out); ``None`` without any."""
    shown = _finite_looks(track)
    if not shown:
        return None
    low, high = _span(track)

    def row(values: list[float | None]) -> str:
        return ", ".join(mermaid_number(v) if (v := values[i]) is not None else "0" for i in shown)

    lines = [
        "xychart-beta",
        f"    title {_quote(track.label + ': interval over the looks')}",
        f"    x-axis {_quote('look')} [{', '.join(str(i + 1) for i in shown)}]",
        f'    y-axis "canary vs production" {mermaid_number(low)} --> {mermaid_number(high)}',
        f"    line [{row(track.lower)}]",
        f"    line [{row(track.upper)}]",
    ]
    if all(track.estimate[i] is not None for i in shown):
        lines.append(f"    line [{row(track.estimate)}]")
    if track.margin_line is not None:
        lines.append(f"    line [{', '.join(mermaid_number(track.margin_line) for _ in shown)}]")
    return "\n".join(lines)


STATUS_COLOURS = {"worse": "#cf222e", "non_inferior": "#1a7f37", "inconclusive": "#9a6700"}


def svg_gate(track: GateTrack, *, width: int = 520, height: int = 180) -> str | None:
    """Inline SVG: a band from lower to upper over the look index, the estimate as a line,
    zero (solid) and the margin (dashed purple)."""
    shown = _finite_looks(track)
    if not shown:
        return None
    left, right, top, bottom = 56, 12, 22, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = _span(track)
    count = max(len(track.lower) - 1, 1)

    def x(index: int) -> float:
        return left + index / count * plot_w

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    upper = [f"{x(i):.1f},{y(track.upper[i]):.1f}" for i in shown]  # type: ignore[arg-type]
    lower = [f"{x(i):.1f},{y(track.lower[i]):.1f}" for i in reversed(shown)]  # type: ignore[arg-type]
    colour = STATUS_COLOURS.get(track.status, "#57606a")
    label = escape(plain(track.label))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="canary-gate" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{label}: interval of canary vs production at each look</title>",
        f'<text x="{left}" y="14" font-weight="600">{label}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#d0d7de"/>',
        f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{colour}" '
        f'fill-opacity="0.25" stroke="{colour}" stroke-width="1"/>',
        f'<line class="zero" x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" '
        'stroke="#57606a" stroke-width="1"/>',
    ]
    if track.margin_line is not None:
        parts.append(
            f'<line class="margin" x1="{left}" y1="{y(track.margin_line):.1f}" '
            f'x2="{left + plot_w}" y2="{y(track.margin_line):.1f}" stroke="#8250df" '
            'stroke-width="1.5" stroke-dasharray="4,3"/>'
        )
    points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(track.estimate) if v is not None]
    if points:
        parts.append(
            f'<polyline class="estimate" points="{" ".join(points)}" fill="none" '
            f'stroke="{colour}" stroke-width="1.5"/>'
        )
    ticks = nice_ticks(low, high)
    for value in ticks:
        parts.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#57606a">'
            f"{_tick_label(value, ticks)}</text>"
        )
    for index in sorted({0, len(track.lower) - 1}):
        anchor = "start" if index == 0 else "end"
        parts.append(
            f'<text x="{x(index):.1f}" y="{height - 10}" text-anchor="{anchor}" fill="#57606a">'
            f"look {index + 1}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
