"""``ml-ci canary``: read the serving logs, build the looks, judge the gates, give a verdict.

Looks are at the canary's first request (in the window) plus ``k * interval``, up to ``now``
and at most ``max_duration``. The logs are reduced ONCE to buckets aligned on those looks;
look ``k`` is the cumulative sum of buckets ``0..k-1``, so a replay of 144 looks costs one scan.
The current verdict is the first final verdict (rollback, promote, hold) if one was reached,
else the last look's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ml_ci.canary.gates import GateSeries, gate_series, sample_ratio_cs
from ml_ci.canary.verdict import CONTINUE, FINAL, first_final, look_verdicts
from ml_ci.clock import iso, parse_time
from ml_ci.config import Config
from ml_ci.config.canary import CANARY_METRICS
from ml_ci.errors import InputError
from ml_ci.logs import Window, open_source

IDLE = "idle"  # no canary in progress


@dataclass
class CanarySettings:
    config: Config
    base: Path  # folder that relative logs.path is resolved from (the config file's folder)
    now: float  # epoch seconds, UTC: evaluate as of this time
    logs: str | None = None
    canary: str | None = None
    production: str | None = None
    since: float | None = None
    replay: bool = False
    root: Path = field(default_factory=Path.cwd)
    clock: float | None = None  # the real time (rows after it are in the future); None: now


@dataclass
class CanaryResult:
    verdict: str
    canary: str
    production: str
    start: float | None
    looks: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    sample_ratio: dict[str, Any] | None
    score_drift: dict[str, Any] | None
    n_canary: int
    n_production: int
    decided_at: str | None

    def to_json(self, replay: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "verdict": self.verdict,
            "canary": self.canary,
            "production": self.production,
            "start": iso(self.start) if self.start is not None else None,
            "decided_at": self.decided_at,
            "n_canary": self.n_canary,
            "n_production": self.n_production,
            "gates": self.gates,
            "sample_ratio": self.sample_ratio,
            "score_drift": self.score_drift,
        }
        if replay:
            payload["looks"] = self.looks
        return payload


def resolve_versions(settings: CanarySettings) -> tuple[str, str]:
    """The versions given, else the registry's ``canary`` and ``production`` stages."""
    if settings.canary is not None and settings.production is not None:
        return settings.canary, settings.production
    from ml_ci.gitutil import repo_root
    from ml_ci.registry import version_at_stage

    root = repo_root(settings.root)
    model = settings.config.model.name
    canary = settings.canary or version_at_stage(root, model, "canary")[0]
    production = settings.production or version_at_stage(root, model, "production")[0]
    return canary, production


def execute(
    settings: CanarySettings, progress: Callable[[str], None] | None = None
) -> CanaryResult:
    config = settings.config.canary
    canary, production = resolve_versions(settings)
    if canary == production:
        if settings.canary is None:
            # the registry's canary is production's version (promoted, or the stage fell back
            # to it after a rollback): no canary is in progress, nothing to judge
            return CanaryResult(IDLE, canary, production, None, [], [], None, None, 0, 0, None)
        raise InputError(f"canary and production are the same version {canary!r}")
    source = open_source(settings.config.logs, settings.base, settings.logs)
    window = Window([canary, production], settings.now, settings.since, settings.clock)
    if progress:
        progress(f"reading serving logs from {source.name}")
    origin = source.first_request(canary, window)
    interval = config.seconds("interval")
    max_looks = math.ceil(config.seconds("max_duration") / interval)
    count = min(int((settings.now - origin) // interval), max_looks)
    if count < 1:
        return CanaryResult(
            CONTINUE,
            canary,
            production,
            origin,
            [],
            [],
            None,
            None,
            0,
            0,
            None,
        )
    outcomes = any(CANARY_METRICS[gate.metric][0] for gate in config.gates)
    buckets = source.bucketize(window, origin, interval, count, outcomes)
    for version in (canary, production):
        if buckets.versions[version].requests.sum() == 0:
            raise InputError(
                f"logs {source.name}: version {version!r} has no request between "
                f"{iso(origin)} and {iso(origin + count * interval)}; check --since/--now"
            )
        # Brier divides by the labelled rows WITH a score: with none at all (no score column,
        # or the model never logs one) the gate could never decide, so say why instead
        stats = buckets.versions[version]
        gated = any(gate.metric == "brier" for gate in config.gates)
        if gated and stats.labelled.sum() > 0 and stats.brier_rows.sum() == 0:
            raise InputError(
                f"logs {source.name}: no labelled row of version {version!r} has a score in "
                f"column {settings.config.logs.columns.y_score!r} (logs.columns.y_score); log "
                "the model's score or remove the brier gate"
            )
    stats_c = buckets.versions[canary].cumulative()
    stats_p = buckets.versions[production].cumulative()
    alpha_gate = config.alpha / len(config.gates)
    series = [gate_series(gate, stats_c, stats_p, alpha_gate) for gate in config.gates]
    mismatch = None
    share: tuple[np.ndarray, np.ndarray] | None = None
    if config.traffic is not None:
        share = sample_ratio_cs(stats_c, stats_p, config.srm_alpha)
        mismatch = (share[0] > config.traffic) | (share[1] < config.traffic)
    elapsed = np.arange(1, count + 1, dtype=np.float64) * interval
    verdicts = look_verdicts(
        series,
        stats_c.requests,
        stats_p.requests,
        elapsed,
        min_requests=config.min_requests,
        min_duration=config.seconds("min_duration"),
        max_duration=config.seconds("max_duration"),
        on_timeout=config.on_timeout,
        ratio_mismatch=mismatch,
    )
    index, value = first_final(verdicts)
    final_index = int(index)
    current = final_index if final_index >= 0 else count - 1
    last = final_index if final_index >= 0 else count - 1
    looks = [
        {
            "end": iso(origin + (k + 1) * interval),
            "verdict": str(verdicts[k]),
            "n_canary": int(stats_c.requests[k]),
            "n_production": int(stats_p.requests[k]),
            "gates": [_gate_json(item, k) for item in series],
        }
        for k in range(last + 1)
    ]
    ratio = None
    if share is not None and mismatch is not None:
        ratio = {
            "expected": config.traffic,
            "observed": _num(
                stats_c.requests[current] / (stats_c.requests[current] + stats_p.requests[current])
            ),
            "lower": _num(share[0][current]),
            "upper": _num(share[1][current]),
            "mismatch": bool(mismatch[current]),
        }
    verdict = str(value) if final_index >= 0 else str(verdicts[current])
    drift = None
    if stats_c.scores[current].sum() > 0 and stats_p.scores[current].sum() > 0:
        from ml_ci.drift.methods import psi

        # reported, never gated: a new model's scores are meant to differ from production's
        drift = {
            "method": "psi",
            "value": _num(psi(stats_p.scores[current], stats_c.scores[current])),
            "bins": int(stats_c.scores.shape[-1]),
            "gated": False,
        }
    return CanaryResult(
        verdict=verdict,
        canary=canary,
        production=production,
        start=origin,
        looks=looks,
        gates=[_gate_json(item, current) for item in series],
        sample_ratio=ratio,
        score_drift=drift,
        n_canary=int(stats_c.requests[current]),
        n_production=int(stats_p.requests[current]),
        decided_at=iso(origin + (current + 1) * interval) if verdict in FINAL else None,
    )


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _gate_json(item: GateSeries, k: int) -> dict[str, Any]:
    gate = item.gate
    return {
        "metric": gate.metric,
        "rule": gate.rule,
        "margin": gate.margin,
        "relative": gate.relative,
        "status": str(item.status[k]),
        "canary": _num(item.canary[k]),
        "production": _num(item.production[k]),
        "estimate": _num(item.estimate[k]),
        "lower": _num(item.lower[k]),
        "upper": _num(item.upper[k]),
    }


__all__ = ["CanaryResult", "CanarySettings", "execute", "iso", "parse_time"]
