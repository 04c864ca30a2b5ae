"""Chart geometry for the dashboard (pure): data -> coordinates; the templates draw the SVG.

Every chart is a :class:`Chart`: a plot area, axis ticks, and marks in plot coordinates.
One circle is drawn per data point that has a value, and a series' polyline runs through the
same points, so a reader (or a test) can count what was drawn against the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ml_ci.report.charts import nice_ticks

WIDTH, HEIGHT = 760, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 28


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the tooltip (<title>), escaped by the template


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]
    colour: str
    line: bool = True  # a polyline through the points

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Band:
    """A horizontal bar (a stage held over a time span)."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    series: list[Series] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    rules: list[tuple[float, str, str]] = field(default_factory=list)  # y, colour, label
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # colour, label (bands)

    @property
    def plot(self) -> tuple[int, int, int, int]:
        """left, top, width, height of the plot area."""
        return LEFT, TOP, self.width - LEFT - RIGHT, self.height - TOP - BOTTOM


def _time_label(seconds: float, span: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    if 0 < span < 3_600:
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M" if span <= 3 * 86_400 else "%Y-%m-%d")


def time_ticks(start: float, end: float, scale: float, left: float, count: int = 5) -> list[Tick]:
    """``count`` evenly spaced time labels over ``[start, end]``."""
    if end <= start:
        return [Tick(left, _time_label(start, 0))]
    return [
        Tick(
            left + (start + (end - start) * i / (count - 1) - start) * scale,
            _time_label(start + (end - start) * i / (count - 1), end - start),
        )
        for i in range(count)
    ]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def series_chart(
    title: str,
    times: Sequence[float],
    values: Sequence[Sequence[float | None]],
    names: Sequence[str],
    *,
    start: float,
    end: float,
    colours: Sequence[str] = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df"),
    rules: Sequence[tuple[float, str, str]] = (),
    line: bool = True,
) -> Chart:
    """Line charts of ``values[i]`` (one list per series, aligned with ``times``) over
    ``[start, end]``; ``None`` (no data in that bucket) draws nothing. ``rules`` are
    horizontal reference lines ``(value, colour, label)``, e.g. the objective."""
    chart = Chart(title)
    left, top, width, height = chart.plot
    known = [v for row in values for v in row if v is not None and math.isfinite(v)]
    known += [r[0] for r in rules]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    low = min(low, 0.0)
    pad = (high - low) * 0.08 or max(abs(high) * 0.1, 0.01)
    low, high = (low if low == 0 else low - pad), high + pad
    x_scale = width / (end - start) if end > start else 0.0

    def y(value: float) -> float:
        return top + (1 - (value - low) / (high - low)) * height

    for index, (name, row) in enumerate(zip(names, values, strict=True)):
        points = tuple(
            Point(
                left + (t - start) * x_scale,
                y(v),
                f"{name} {_time_label(t, 0)}: {_fmt(v)}",
            )
            for t, v in zip(times, row, strict=True)
            if v is not None and math.isfinite(v)
        )
        chart.series.append(Series(name, points, colours[index % len(colours)], line))
    chart.rules = [(y(value), colour, label) for value, colour, label in rules]
    ticks = nice_ticks(low, high)
    chart.y_ticks = [Tick(y(t), f"{t:g}") for t in ticks]
    chart.x_ticks = time_ticks(start, end, x_scale, left)
    return chart


STAGE_COLOURS = {"production": "#1a7f37", "canary": "#9a6700", "staging": "#0969da"}
EVENT_COLOURS = {
    "register": "#0969da",
    "deregister": "#57606a",
    "assign": "#1a7f37",
    "unassign": "#cf222e",
    "deprecate": "#57606a",
}


@dataclass(frozen=True)
class Event:
    """One registry tag: when, on which row (version), what."""

    time: float
    row: str
    action: str
    label: str


@dataclass(frozen=True)
class Held:
    """A stage held by a version over ``[start, end)``."""

    stage: str
    row: str
    start: float
    end: float


def timeline_chart(
    title: str, rows: Sequence[str], events: Sequence[Event], held: Sequence[Held], end: float
) -> Chart:
    """One row per version: a band per stage holding, a circle per registry event."""
    row_h = 26
    chart = Chart(title, height=TOP + BOTTOM + row_h * max(len(rows), 1))
    left, top, width, _height = chart.plot
    start = min((e.time for e in events), default=end)
    end = max(end, start + 1)
    scale = width / (end - start)
    index = {row: i for i, row in enumerate(rows)}
    # one lane per stage inside each row, so a version holding two stages shows both
    lanes = {stage: k for k, stage in enumerate(sorted({item.stage for item in held}))}
    lane_h = (row_h - 8) / max(len(lanes), 1)
    chart.legend = [(STAGE_COLOURS.get(stage, "#8250df"), stage) for stage in lanes]
    for item in held:
        chart.bands.append(
            Band(
                left + (item.start - start) * scale,
                top + row_h * index[item.row] + 4 + lanes[item.stage] * lane_h,
                max((item.end - item.start) * scale, 1.0),
                lane_h,
                STAGE_COLOURS.get(item.stage, "#8250df"),
                f"{item.row} {item.stage} {_time_label(item.start, 0)} .. "
                f"{_time_label(item.end, 0)}",
            )
        )
    for action in EVENT_COLOURS:
        points = tuple(
            Point(left + (e.time - start) * scale, top + row_h * index[e.row] + row_h / 2, e.label)
            for e in events
            if e.action == action
        )
        if points:
            chart.series.append(Series(action, points, EVENT_COLOURS[action], line=False))
    chart.y_ticks = [Tick(top + row_h * i + row_h / 2 + 4, row) for i, row in enumerate(rows)]
    chart.x_ticks = time_ticks(start, end, scale, left)
    return chart
