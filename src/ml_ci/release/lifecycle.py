"""What the registry says about a version's life: stored results, and retirement due.

* :func:`results_summary`: the latest canary verdict and monitor alert stored beside a version
  (:mod:`ml_ci.release.results`), for ``ml-ci registry show``;
* :func:`retirement_due`: which active versions ``governance.retire_after`` says should be
  retired: registered longer ago than ``age``, or superseded for longer than ``superseded``
  (another version has held ``production`` since the time it took the stage over), never
  the version in production now.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml_ci.config.durations import parse_duration
from ml_ci.config.governance import RetireAfter
from ml_ci.registry import ModelState
from ml_ci.release.results import read_results

DAY = 86_400


def results_summary(root: Path, commit: str) -> dict[str, Any]:
    entries = read_results(root, commit)
    canary = [e for e in entries if e.get("kind") == "canary"]
    monitor = [e for e in entries if e.get("kind") == "monitor"]
    return {
        "count": len(entries),
        "canary": (
            {"verdict": canary[-1].get("verdict"), "decided_at": canary[-1].get("decided_at")}
            if canary
            else None
        ),
        "monitor": (
            {"alert": monitor[-1].get("alert"), "at": monitor[-1].get("at")} if monitor else None
        ),
    }


def retirement_due(state: ModelState, criteria: Any, now: float) -> dict[str, str]:
    """version -> why it is due (only active versions that do not hold production)."""
    assert isinstance(criteria, RetireAfter)
    production = state.stages.get("production")
    history = state.stage_history("production")  # newest first
    due: dict[str, str] = {}
    for info in state.versions.values():
        if not info.active or (production is not None and production.version == info.version):
            continue
        if criteria.age is not None:
            age = now - info.registered_at
            if age > parse_duration(criteria.age):
                due[info.version] = f"registered {age / DAY:.0f} days ago (age > {criteria.age})"
                continue
        if criteria.superseded is not None:
            since = _superseded_since(history, info.version)
            if since is not None and now - since > parse_duration(criteria.superseded):
                days = (now - since) / DAY
                due[info.version] = (
                    f"superseded in production {days:.0f} days ago "
                    f"(superseded > {criteria.superseded})"
                )
    return due


def _superseded_since(history: list[Any], version: str) -> float | None:
    """When another version took production after ``version`` last held it."""
    later = None
    for holder in history:  # newest first
        if holder.version == version:
            return later
        later = holder.assigned_at
    return None
