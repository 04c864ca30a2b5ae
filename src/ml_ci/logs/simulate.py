"""A small seeded generator of serving logs (one row per request, the serving-log contract).

Shared by the tests, the benchmark and the demo: two versions behind a router that sends a
``traffic`` share to the canary, log-normal latency, Bernoulli errors, and outcomes that arrive
``label_delay`` seconds after the request (``label_time``). With ``features``, each row also
carries the request's input features (:class:`Features`), drawn from their own seeded stream so
the other columns are the same with or without them; :func:`write_reference` writes a training
table of the same features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Profile:
    """How one version behaves."""

    error_rate: float = 0.01
    latency_median_ms: float = 100.0
    latency_sigma: float = 0.4
    accuracy: float = 0.9


@dataclass(frozen=True)
class Features:
    """Input features: ``numeric`` standard-normal columns ``x0, x1, ...`` and a categorical
    ``segment`` (a/b/c with shares 0.5/0.3/0.2). ``shift=(column, since, amount)``: from
    ``since`` on, numeric ``column`` is moved by ``amount`` standard deviations (planted drift)."""

    numeric: int = 3
    segment: bool = True
    shift: tuple[str, float, float] | None = None

    def draw(self, rng: np.random.Generator, t: np.ndarray) -> dict[str, object]:
        n = t.size
        columns: dict[str, object] = {}
        for index in range(self.numeric):
            values = rng.standard_normal(n)
            name = f"x{index}"
            if self.shift is not None and self.shift[0] == name:
                values = np.where(t >= self.shift[1], values + self.shift[2], values)
            columns[name] = values.round(6)
        if self.segment:
            columns["segment"] = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.5, 0.3, 0.2])
        return columns


def write_reference(path: Path, *, rows: int, features: Features, seed: int = 0) -> Path:
    """A training table of ``rows`` rows of ``features`` and a 0/1 ``label`` (``.parquet`` or
    ``.csv``); the rows are at time 0, so a shift ``since`` 0 or earlier applies to all."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, 1])
    columns = features.draw(rng, np.zeros(rows))
    columns["label"] = (rng.random(rows) < 0.5).astype("int8")
    table = pa.table(columns)
    if path.suffix == ".csv":
        pacsv.write_csv(table, str(path))
    else:
        pq.write_table(table, str(path))
    return path


def calibrated_confidence(accuracy: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Confidence in the own prediction, ``c = 0.5 + 0.5 * u**k`` on [0.5, 1] with
    ``E[c] = 0.5 + 0.5 / (k + 1) = accuracy``, i.e. ``k = 0.5 / (accuracy - 0.5) - 1``
    (accuracy clipped to [0.5, 1]: 0.75 is uniform confidence, 1 always sure). A prediction is
    right with probability ``c``, so the scores are calibrated and the expected accuracy is
    ``accuracy``: what NannyML's CBPE assumes of a model's scores."""
    a = np.clip(accuracy, 0.5, 1.0)
    with np.errstate(divide="ignore"):
        k = np.where(a > 0.5, 0.5 / np.maximum(a - 0.5, 1e-12) - 1.0, np.inf)
    values: np.ndarray = 0.5 + 0.5 * uniform**k
    return values


def simulate_logs(
    path: Path,
    *,
    start: float,
    duration: float,
    requests: int,
    canary: tuple[str, Profile],
    production: tuple[str, Profile],
    traffic: float = 0.1,
    seed: int = 0,
    label_delay: float = 600.0,
    outcomes: bool = True,
    request_ids: bool = True,
    chunk: int = 1_000_000,
    incident: tuple[float, Profile] | None = None,
    features: Features | None = None,
) -> Path:
    """Write ``requests`` rows over ``[start, start + duration)`` to ``path`` (``.parquet`` or
    ``.csv``; timestamps as UTC timestamps), sorted by time, in chunks of ``chunk`` rows.
    ``incident=(since, profile)``: from ``since`` on, production behaves like ``profile`` (a
    drill's injected problem). ``traffic=0`` sends everything to production. ``features``: add
    the input feature columns (:class:`Features`)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    feature_rng = np.random.default_rng([seed, 2])  # its own stream: other columns unchanged
    times = np.sort(rng.uniform(start, start + duration, size=requests))
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    try:
        for offset in range(0, requests, chunk):
            t = times[offset : offset + chunk]
            table = pa.table(
                _columns(
                    rng,
                    t,
                    offset,
                    canary,
                    production,
                    traffic,
                    label_delay,
                    outcomes,
                    request_ids,
                    incident,
                )
            )
            if features is not None:
                for name, values in features.draw(feature_rng, t).items():
                    table = table.append_column(name, pa.array(values))
            if writer is None:
                if path.suffix == ".csv":
                    writer = pacsv.CSVWriter(str(path), table.schema)
                else:
                    writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path


def _columns(
    rng: np.random.Generator,
    t: np.ndarray,
    offset: int,
    canary: tuple[str, Profile],
    production: tuple[str, Profile],
    traffic: float,
    label_delay: float,
    outcomes: bool,
    request_ids: bool,
    incident: tuple[float, Profile] | None = None,
) -> dict[str, object]:
    import pyarrow as pa

    n = t.size
    is_canary = rng.random(n) < traffic
    profiles = (production[1], canary[1], incident[1] if incident else production[1])
    pick = is_canary.astype(int)
    if incident is not None:
        pick = np.where(~is_canary & (t >= incident[0]), 2, pick)

    def per(field: str) -> np.ndarray:
        values: np.ndarray = np.array([getattr(p, field) for p in profiles])[pick]
        return values

    latency = per("latency_median_ms") * np.exp(per("latency_sigma") * rng.standard_normal(n))
    columns: dict[str, object] = {
        "timestamp": pa.array((t * 1e6).astype("int64"), pa.timestamp("us", tz="UTC")),
        "model_version": pa.array(
            np.where(is_canary, canary[0], production[0])
        ).dictionary_encode(),
        "latency_ms": latency.round(3),
        "error": (rng.random(n) < per("error_rate")).astype("int8"),
    }
    if request_ids:
        columns["request_id"] = np.arange(offset, offset + n, dtype=np.int64)
    if outcomes:
        y_true = (rng.random(n) < 0.5).astype("int8")
        u_right, u_confidence = rng.random(n), rng.random(n)
        confidence = calibrated_confidence(per("accuracy"), u_confidence)
        right = u_right < confidence  # calibrated: P(right | confidence) = confidence
        y_pred = np.where(right, y_true, 1 - y_true).astype("int8")
        y_score = np.where(y_pred == 1, confidence, 1 - confidence).round(4)
        arrival = t + rng.exponential(label_delay, size=n)
        columns["y_true"] = y_true
        columns["y_pred"] = y_pred
        columns["y_score"] = y_score
        columns["label_time"] = pa.array(
            (arrival * 1e6).astype("int64"), pa.timestamp("us", tz="UTC")
        )
    return columns
