"""Monte-Carlo canaries built directly as bucket statistics (fast enough for the test suite).

Per look: Binomial errors and Multinomial latency-bin counts of a log-normal latency, for a
canary and a production version; then the SAME gate and verdict code as ``ml-ci canary``.
Run ``python -m tests.canary.simulation`` to print the figures quoted in docs/canary.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml_ci.canary.gates import gate_series
from ml_ci.canary.verdict import first_final, look_verdicts
from ml_ci.config.canary import CanaryConfig
from ml_ci.config.durations import parse_duration
from ml_ci.logs.buckets import LATENCY_EDGES_MS, SCORE_BINS, Stats

LOOKS = 24
PER_LOOK = 20_000  # requests per 10-minute look, both versions
TRAFFIC = 0.1
ERROR_RATE = 0.01
LATENCY_MEDIAN_MS = 100.0
LATENCY_SIGMA = 0.4

CONFIG = CanaryConfig(
    interval="10m",
    min_duration="10m",  # overridden per scenario (see run)
    max_duration="4h",  # 24 looks
    min_requests=1000,
    alpha=0.05,
    on_timeout="hold",  # so that a rollback is always a gate's decision
    gates=[
        {"metric": "error_rate", "margin": 0.005},
        {"metric": "latency_p95_ms", "margin": 0.1, "relative": True},
    ],
)

# rollback only beyond the margin: then a canary worse by EXACTLY the margin can be neither
# rolled back nor (beyond alpha) promoted, so the promote error is tested over all 24 looks
TOLERANT = CONFIG.model_copy(
    update={
        "gates": [gate.model_copy(update={"rollback_margin": gate.margin}) for gate in CONFIG.gates]
    }
)


def _bin_probabilities(scale: float) -> np.ndarray:
    from scipy.stats import lognorm

    cdf = lognorm.cdf(LATENCY_EDGES_MS, s=LATENCY_SIGMA, scale=LATENCY_MEDIAN_MS * scale)
    return np.diff(cdf)


def simulate_stats(
    rng: np.random.Generator, sims: int, n: int, error: float, scale: float
) -> Stats:
    """Per-look statistics of ``sims`` independent versions with ``n`` requests a look."""
    requests = np.full((sims, LOOKS), float(n))
    errors = rng.binomial(n, error, size=(sims, LOOKS)).astype(float)
    latency = rng.multinomial(n, _bin_probabilities(scale), size=(sims, LOOKS)).astype(float)
    zeros = np.zeros((sims, LOOKS))
    return Stats(
        requests=requests,
        errors=errors,
        labelled=zeros,
        correct=zeros,
        pred_pos=zeros,
        true_pos=zeros,
        actual_pos=zeros,
        brier_sum=zeros,
        brier_rows=zeros,
        latency=latency,
        scores=np.zeros((sims, LOOKS, SCORE_BINS)),
    )


@dataclass
class Outcome:
    rollback: float  # share of simulated canaries whose first final verdict is rollback
    promote: float
    se_rollback: float
    se_promote: float
    looks_to_rollback: np.ndarray  # 1-based look of each rollback


def run(
    seed: int,
    sims: int,
    *,
    canary_error: float = ERROR_RATE,
    canary_scale: float = 1.0,
    method: str = "sequential",
    min_duration: str = "10m",
    config: CanaryConfig = CONFIG,
    chunk: int = 100,
) -> Outcome:
    """First final verdicts of ``sims`` canaries against production (``method``: the engine's
    anytime-valid CS, or ``fixed``: a fixed-level interval re-tested at every look). With
    ``min_duration="4h"`` nothing is promoted before the 24th look, so a false rollback has
    all 24 looks to happen."""
    rng = np.random.default_rng(seed)
    n_canary = round(PER_LOOK * TRAFFIC)
    n_production = PER_LOOK - n_canary
    elapsed = np.arange(1, LOOKS + 1) * config.seconds("interval")
    alpha_gate = config.alpha / len(config.gates)
    verdicts, looks = [], []
    for start in range(0, sims, chunk):
        size = min(chunk, sims - start)
        canary = simulate_stats(rng, size, n_canary, canary_error, canary_scale).cumulative()
        production = simulate_stats(rng, size, n_production, ERROR_RATE, 1.0).cumulative()
        series = [
            gate_series(gate, canary, production, alpha_gate, method)  # type: ignore[arg-type]
            for gate in config.gates
        ]
        per_look = look_verdicts(
            series,
            canary.requests,
            production.requests,
            elapsed,
            min_requests=config.min_requests,
            min_duration=parse_duration(min_duration),
            max_duration=config.seconds("max_duration"),
            on_timeout=config.on_timeout,
        )
        index, value = first_final(per_look)
        verdicts.append(value)
        looks.append(index + 1)
    verdict = np.concatenate(verdicts)
    look = np.concatenate(looks)
    rollback = float(np.mean(verdict == "rollback"))
    promote = float(np.mean(verdict == "promote"))
    return Outcome(
        rollback=rollback,
        promote=promote,
        se_rollback=float(np.sqrt(max(rollback * (1 - rollback), 1e-12) / sims)),
        se_promote=float(np.sqrt(max(promote * (1 - promote), 1e-12) / sims)),
        looks_to_rollback=look[verdict == "rollback"],
    )


def mann_whitney_z(canary_bins: np.ndarray, production_bins: np.ndarray) -> np.ndarray:
    """Mann-Whitney z (normal approximation, tie-corrected, no continuity correction) of
    "canary latency is larger", from latency-bin counts (rows tied within a bin); equals
    ``scipy.stats.mannwhitneyu(..., method="asymptotic", use_continuity=False)`` on the rows."""
    n_c = canary_bins.sum(axis=-1)
    n_p = production_bins.sum(axis=-1)
    below = np.cumsum(production_bins, axis=-1) - production_bins
    u = (canary_bins * (below + 0.5 * production_bins)).sum(axis=-1)
    total = n_c + n_p
    ties = canary_bins + production_bins
    tie_term = (ties * (ties**2 - 1)).sum(axis=-1) / (total * (total - 1))
    variance = n_c * n_p / 12 * ((total + 1) - tie_term)
    return (u - n_c * n_p / 2) / np.sqrt(variance)


def peers_rollback(seed: int, sims: int, *, level: float = 0.05, chunk: int = 100) -> float:
    """Share of identical canaries rolled back over the 24 looks by the peers' method: at every
    look, a one-sided two-proportion z-test of the error rate and a one-sided Mann-Whitney test
    of latency, each at ``level`` (same data stream as :func:`run` with the same seed)."""
    from scipy.special import ndtri

    rng = np.random.default_rng(seed)
    n_canary = round(PER_LOOK * TRAFFIC)
    n_production = PER_LOOK - n_canary
    critical = float(ndtri(1 - level))
    rolled = []
    for start in range(0, sims, chunk):
        size = min(chunk, sims - start)
        canary = simulate_stats(rng, size, n_canary, ERROR_RATE, 1.0).cumulative()
        production = simulate_stats(rng, size, n_production, ERROR_RATE, 1.0).cumulative()
        pooled = (canary.errors + production.errors) / (canary.requests + production.requests)
        se = np.sqrt(pooled * (1 - pooled) * (1 / canary.requests + 1 / production.requests))
        z_error = (canary.errors / canary.requests - production.errors / production.requests) / se
        z_latency = mann_whitney_z(canary.latency, production.latency)
        alarm = (z_error > critical) | (z_latency > critical)
        rolled.append(alarm.any(axis=-1))
    return float(np.mean(np.concatenate(rolled)))


if __name__ == "__main__":  # pragma: no cover - prints the figures for the docs
    for label, kwargs in [
        ("identical", {"min_duration": "4h"}),
        ("error at margin", {"canary_error": ERROR_RATE + 0.005}),
        ("p95 at margin", {"canary_scale": 1.1}),
        ("error at margin, tolerant", {"canary_error": ERROR_RATE + 0.005, "config": TOLERANT}),
        ("p95 at margin, tolerant", {"canary_scale": 1.1, "config": TOLERANT}),
        ("error doubled", {"canary_error": 2 * ERROR_RATE}),
        ("p95 +35%", {"canary_scale": 1.35}),
    ]:
        for method in ("sequential", "fixed"):
            out = run(1, 400, method=method, **kwargs)  # type: ignore[arg-type]
            median = float(np.median(out.looks_to_rollback)) if out.looks_to_rollback.size else None
            print(
                f"{label:16} {method:10} rollback {out.rollback:.3f} promote {out.promote:.3f} "
                f"median look of rollback {median}"
            )
    print(f"{'identical':26} peers           rollback {peers_rollback(1, 400):.3f}")
