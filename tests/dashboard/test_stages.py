"""Stage holdings over time, as the registry resolves them after each tag (real tags)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from ml_ci.dashboard.engine import stage_spans
from ml_ci.registry import load_registry
from tests.dashboard.test_dashboard import registry
from tests.release.helpers import config, gto_stages


def test_a_rollback_gives_production_back_in_the_bands(tmp_path: Path) -> None:
    from ml_ci.release.promote import AssignSettings, promote, rollback

    root = registry(tmp_path)  # v0.1.0 production, v0.2.0 canary
    promote(AssignSettings(root=root, config=config(), model="churn", stage="production"))
    rollback(AssignSettings(root=root, config=config(), model="churn", stage="production"))
    state = load_registry(root)["churn"]
    end = float(state.history[-1].time + 60)
    spans = stage_spans(state, end)
    production = sorted((s for s in spans if s.stage == "production"), key=lambda s: s.start)
    assert [s.row for s in production] == ["v0.1.0", "v0.2.0", "v0.1.0"]
    # back to back, and the last one reaches the end: held by what gto says holds it
    assert all(a.end == b.start for a, b in pairwise(production))
    assert production[-1].end == end
    assert production[-1].row == gto_stages(root, "churn")["production"]
    assignments = [t for t in state.history if t.parsed.stage == "production"]
    assert [s.start for s in production] == [float(t.time) for t in assignments]
