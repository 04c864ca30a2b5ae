"""What the dashboard page shows, as data: :mod:`.engine` fills it in, :mod:`.render` draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ml_ci.dashboard.charts import Chart


@dataclass
class ObjectiveView:
    metric: str
    alert: str
    status: dict[str, Any]  # the monitor's payload of this objective
    charts: list[Chart] = field(default_factory=list)


@dataclass
class ModelView:
    name: str
    deprecated: bool
    stages: dict[str, str]  # stage -> version
    versions: list[dict[str, Any]]
    timeline: Chart
    events: list[dict[str, Any]]
    canary: list[dict[str, Any]] = field(default_factory=list)
    canary_charts: list[Chart] = field(default_factory=list)
    monitor: list[dict[str, Any]] = field(default_factory=list)
    drift: list[Chart] = field(default_factory=list)


@dataclass
class Dashboard:
    generated: str
    models: list[ModelView]
    production: str | None = None  # the version whose objectives are shown
    window: dict[str, str] | None = None
    objectives: list[ObjectiveView] = field(default_factory=list)
    incidents: list[dict[str, Any]] | None = None  # None: not fetched
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def charts(self) -> list[tuple[str, Chart]]:
        found: list[tuple[str, Chart]] = []
        for model in self.models:
            found.append((f"{model.name}/timeline", model.timeline))
            found += [(f"{model.name}/canary/{c.title}", c) for c in model.canary_charts]
            found += [(f"{model.name}/drift/{c.title}", c) for c in model.drift]
        for objective in self.objectives:
            found += [(f"objective/{objective.metric}/{c.title}", c) for c in objective.charts]
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "models": [m.name for m in self.models],
            "production": self.production,
            "window": self.window,
            "charts": [
                {
                    "id": name,
                    "points": {s.name: len(s.points) for s in chart.series},
                    "bands": len(chart.bands),
                }
                for name, chart in self.charts()
            ],
            "objectives": [
                {
                    "metric": o.metric,
                    "alert": o.alert,
                    "value": o.status.get("value"),
                    "budget_spent": o.status.get("budget_spent"),
                    "estimate": o.status.get("estimate"),  # quality: CBPE, never the alert
                }
                for o in self.objectives
            ],
            "incidents": self.incidents,
            "notes": self.notes,
        }
