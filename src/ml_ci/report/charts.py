"""Charts: a mermaid bar chart for GitHub markdown, an inline SVG interval plot for HTML.

Both plot ``delta = candidate - baseline`` per gated metric. The SVG shows each delta with
its confidence interval, the zero line, and the gate's margin (where the interval must stay
on the good side of). No external assets: the SVG is text inside the HTML file.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ml_ci.report.view import GateRow

MAX_BARS = 20
VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}


def _quote(label: str) -> str:
    # mermaid labels are double-quoted strings; a quote inside would end them
    return '"' + label.replace('"', "'").replace("\n", " ") + '"'


def mermaid_deltas(rows: Sequence[GateRow]) -> str | None:
    """A mermaid ``xychart-beta`` bar chart of deltas (``None`` without any delta)."""
    points = [r for r in rows if r.delta is not None][:MAX_BARS]
    if not points:
        return None
    labels = ", ".join(_quote(r.label) for r in points)
    values = ", ".join(f"{r.delta:.6g}" for r in points)
    low = min(0.0, *(r.delta for r in points if r.delta is not None))
    high = max(0.0, *(r.delta for r in points if r.delta is not None))
    pad = (high - low) * 0.1 or 0.01
    return (
        "xychart-beta\n"
        '    title "candidate - baseline"\n'
        f"    x-axis [{labels}]\n"
        f'    y-axis "delta" {low - pad:.6g} --> {high + pad:.6g}\n'
        f"    bar [{values}]"
    )


def _span(rows: Sequence[GateRow]) -> tuple[float, float]:
    values = [0.0]
    for row in rows:
        values += [v for v in (row.delta, row.ci_low, row.ci_high, row.bound) if v is not None]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 0.01
    return low - pad, high + pad


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
        f'<line x1="{x(0):.1f}" y1="{top - 10}" x2="{x(0):.1f}" y2="{height - 25}" '
        'stroke="#57606a" stroke-width="1"/>',
        f'<text x="{x(0):.1f}" y="{top - 14}" text-anchor="middle" fill="#57606a">0</text>',
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
    for value in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{x(value):.1f}" y="{axis_y}" text-anchor="middle" fill="#57606a">'
            f"{value:.3g}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
