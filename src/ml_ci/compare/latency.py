"""Latency metrics: p50/p95/p99 in milliseconds, from a per-row column or timed predict runs.

* column (``predictions.latency`` or ``latency.column``): the quantile of the per-row values,
  with distribution-free order-statistic bounds on the candidate (:class:`QuantileEstimate`).
* timing: ``ml-ci baseline`` runs the predict command ``latency.repeats`` times for each model
  and writes ``<baseline output>.timing.json``; the quantiles are over the runs' wall times
  (ms per run of the whole command). A handful of runs gives no interval: the gate is decided
  on the measured value and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ml_ci.errors import InputError

QUANTILES = {"latency_p50_ms": 0.50, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}
TIMING_SUFFIX = ".timing.json"


@dataclass(frozen=True)
class Timing:
    """Wall times (ms) of the predict command, per model."""

    baseline_ms: list[float]
    candidate_ms: list[float]
    rows: int

    def to_json(self) -> dict[str, object]:
        return {
            "baseline_ms": self.baseline_ms,
            "candidate_ms": self.candidate_ms,
            "rows": self.rows,
        }


def timing_path(predictions: Path) -> Path:
    return predictions.with_name(predictions.name + TIMING_SUFFIX)


def read_timing(path: Path) -> Timing | None:
    """The timing file, or None when absent; a broken one is an InputError."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        timing = Timing(
            [float(x) for x in data["baseline_ms"]],
            [float(x) for x in data["candidate_ms"]],
            int(data["rows"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a timing file written by ml-ci baseline: {error}") from None
    return timing


def write_timing(path: Path, timing: Timing) -> None:
    path.write_text(json.dumps(timing.to_json(), indent=2) + "\n", encoding="utf-8")


def quantile(values: npt.NDArray[np.float64], q: float) -> float:
    """numpy's default (linear interpolation) quantile."""
    return float(np.quantile(values, q))
