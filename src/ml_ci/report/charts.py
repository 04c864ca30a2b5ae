"""Charts: a mermaid bar chart for GitHub markdown; for HTML, an inline SVG interval plot and
the models' ROC and precision-recall curves.

Both plot ``delta = candidate - baseline`` per gated metric. The SVG shows each delta with
its confidence interval, the zero line, and the gate's margin (where the interval must stay
on the good side of). No external assets: the SVG is text inside the HTML file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ml_ci.record.compare import Curve
from ml_ci.report.safe import plain
from ml_ci.report.view import GateRow

MAX_BARS = 20
VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}


def _quote(label: str) -> str:
    # mermaid labels are double-quoted strings (a quote inside would end them) that mermaid
    # may render as HTML: keep letters, digits and a few signs only
    kept = "".join(c if c.isalnum() or c in " _-.=[]/:" else "_" for c in plain(label))
    return f'"{kept}"'


def mermaid_number(value: float, digits: int = 6) -> str:
    """``value`` to ``digits`` significant digits in positional notation: mermaid's xychart
    grammar has no exponents (``3.9e-06`` is a parse error)."""
    if value == 0 or not math.isfinite(value):
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def mermaid_deltas(rows: Sequence[GateRow]) -> str | None:
    """A mermaid ``xychart-beta`` bar chart of deltas (``None`` without any delta)."""
    points = [r for r in rows if r.delta is not None][:MAX_BARS]
    if not points:
        return None
    labels = ", ".join(_quote(r.label) for r in points)
    values = ", ".join(mermaid_number(r.delta) for r in points if r.delta is not None)
    low = min(0.0, *(r.delta for r in points if r.delta is not None))
    high = max(0.0, *(r.delta for r in points if r.delta is not None))
    pad = (high - low) * 0.1 or 0.01
    return (
        "xychart-beta\n"
        '    title "candidate - baseline"\n'
        f"    x-axis [{labels}]\n"
        f'    y-axis "delta" {mermaid_number(low - pad)} --> {mermaid_number(high + pad)}\n'
        f"    bar [{values}]"
    )


def _span(rows: Sequence[GateRow]) -> tuple[float, float]:
    values = [0.0]
    for row in rows:
        values += [v for v in (row.delta, row.ci_low, row.ci_high, row.bound) if v is not None]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 0.01
    return low - pad, high + pad


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values inside ``[low, high]``: multiples of a step of 1, 2 or 5 x 10^k,
    at least ``count`` of them (0 is one whenever it is inside)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    # the largest round step not above raw: at least count - 1 ticks, at most about 2.5 x
    step = max(m * power for m in (1, 2, 5) if m * power <= raw * (1 + 1e-9))
    first = math.ceil(low / step - 1e-9)
    ticks = []
    index = first
    while index * step <= high + step * 1e-9:
        ticks.append(round(index * step, 12) + 0.0)  # + 0.0: no "-0"
        index += 1
    return ticks


def _tick_label(value: float, ticks: Sequence[float]) -> str:
    """As many decimals as the step needs, with a real minus sign."""
    if value == 0:
        return "0"
    step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(value) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f}".replace("-", "\u2212")


def svg_intervals(rows: Sequence[GateRow], *, width: int = 760) -> str | None:
    """An SVG forest plot: one line per gate, dot = delta, bar = CI, dashed tick = margin."""
    points = [r for r in rows if r.delta is not None]
    if not points:
        return None
    label_w, row_h, top = 220, 26, 30
    plot_w = width - label_w - 20
    height = top + row_h * len(points) + 30
    low, high = _span(points)

    def x(value: float) -> float:
        return label_w + (value - low) / (high - low) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>candidate - baseline per gate, with confidence intervals and margins</title>",
        f'<line class="zero" x1="{x(0):.1f}" y1="{top - 10}" x2="{x(0):.1f}" '
        f'y2="{height - 25}" stroke="#57606a" stroke-width="1"/>',
    ]
    for index, row in enumerate(points):
        y = top + row_h * index + row_h / 2
        colour = VERDICT_COLOURS.get(row.verdict, "#57606a")
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(row.label)}</text>'
        )
        if row.ci_low is not None and row.ci_high is not None:
            parts.append(
                f'<line x1="{x(row.ci_low):.1f}" y1="{y:.1f}" x2="{x(row.ci_high):.1f}" '
                f'y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>'
            )
        if row.bound is not None:
            parts.append(
                f'<line x1="{x(row.bound):.1f}" y1="{y - 9:.1f}" x2="{x(row.bound):.1f}" '
                f'y2="{y + 9:.1f}" stroke="#8250df" stroke-width="2" stroke-dasharray="3,2"/>'
            )
        assert row.delta is not None
        parts.append(
            f'<circle cx="{x(row.delta):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
            f"<title>{escape(row.label)}: delta {row.delta:.4g} ({row.verdict})</title></circle>"
        )
    axis_y = height - 12
    ticks = nice_ticks(low, high)
    for value in ticks:  # round numbers; 0 among them (the zero line needs no label of its own)
        parts.append(
            f'<text class="tick" x="{x(value):.1f}" y="{axis_y}" text-anchor="middle" '
            f'fill="#57606a">{_tick_label(value, ticks)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


CURVE_STYLES = {
    "baseline": ('stroke="#8c959f" stroke-dasharray="6,3"', "#8c959f"),
    "candidate": ('stroke="#0969da"', "#0969da"),
}
CURVE_PANELS = (
    ("roc", "ROC", "false-positive rate", "true-positive rate", "AUC"),
    ("pr", "Precision-recall", "recall", "precision", "AP"),
)


def svg_curves(curves: Sequence[Curve], *, panel: int = 300) -> str | None:
    """ROC and precision-recall curves of both models, side by side, in one SVG (``None``
    without curves). Both axes run from 0 to 1; the ROC panel shows the chance diagonal."""
    if not curves:
        return None
    margin, gap = 44, 60
    width = 2 * (panel + margin) + gap + 16  # room for the last tick label
    height = panel + margin + 56
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="curves" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        'font-size="12">',
        "<title>ROC and precision-recall curves of the baseline and the candidate</title>",
    ]
    for index, (kind, title, x_label, y_label, area_name) in enumerate(CURVE_PANELS):
        left, top = margin + index * (panel + margin + gap), 24

        def at(x: float, y: float, left: int = left, top: int = top) -> str:
            return f"{left + x * panel:.1f},{top + (1 - y) * panel:.1f}"

        parts += [
            f'<text x="{left + panel / 2}" y="{top - 8}" text-anchor="middle" '
            f'font-weight="600">{title}</text>',
            f'<rect x="{left}" y="{top}" width="{panel}" height="{panel}" fill="none" '
            'stroke="#d0d7de"/>',
            f'<text x="{left + panel / 2}" y="{top + panel + 30}" text-anchor="middle" '
            f'fill="#57606a">{x_label}</text>',
            f'<text x="{left - 30}" y="{top + panel / 2}" text-anchor="middle" fill="#57606a" '
            f'transform="rotate(-90 {left - 30} {top + panel / 2})">{y_label}</text>',
        ]
        for tick in (0.0, 0.5, 1.0):
            parts.append(
                f'<text x="{left + tick * panel:.1f}" y="{top + panel + 14}" '
                f'text-anchor="middle" fill="#57606a">{tick:g}</text>'
            )
            parts.append(
                f'<text x="{left - 6}" y="{top + (1 - tick) * panel + 4:.1f}" text-anchor="end" '
                f'fill="#57606a">{tick:g}</text>'
            )
        if kind == "roc":
            parts.append(
                f'<polyline points="{at(0, 0)} {at(1, 1)}" fill="none" stroke="#d0d7de" '
                'stroke-dasharray="2,3"/>'
            )
        legend_y = top + panel - 12
        for curve in (c for c in curves if c.kind == kind):
            stroke, colour = CURVE_STYLES[curve.model]
            points = " ".join(at(x, y) for x, y in zip(curve.x, curve.y, strict=True))
            area = "" if curve.area is None else f" ({area_name} {curve.area:.3f})"
            parts.append(
                f'<polyline class="curve-{curve.model}" points="{points}" fill="none" {stroke} '
                f'stroke-width="2"><title>{curve.model}{area}</title></polyline>'
            )
            # legend inside the panel, bottom right (where neither curve usually runs)
            parts.append(
                f'<text x="{left + panel - 8}" y="{legend_y}" text-anchor="end" '
                f'fill="{colour}">{curve.model}{area}</text>'
            )
            legend_y -= 16
    parts.append("</svg>")
    return "\n".join(parts)
