"""Serving logs written twice: as Parquet rows and as the OpenMetrics counters and histograms
a serving fleet would have exported for the same requests (scraped every ``SCRAPE`` seconds).

The requests are generated once. Each pod exports, at every scrape time ``s``, cumulative
counters over its requests with ``timestamp < s`` since its last (re)start: ``ml_requests_total``,
``ml_request_errors_total`` and the latency histogram in ms and in seconds. Latencies are drawn
log-normal and rounded UP to a histogram bound, so each one sits in the fixed bin of its
bucket's ``le`` and the Prometheus buckets are exactly the file buckets (the mapping is exact
only then; otherwise it is conservative, which a unit test checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SCRAPE = 30
LE_MS: tuple[int, ...] = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150)
LE_MS += (175, 200, 250, 300, 400, 500, 1000)


@dataclass(frozen=True)
class Pod:
    name: str
    version: str
    start: int  # first scrape (epoch s)
    restart: int | None = None  # restarts at this scrape time: counters from 0 afterwards
    lazy_errors: bool = False  # the error series appears with the first error


@dataclass
class Fleet:
    start: int
    end: int
    canary_start: int
    rows: dict[str, np.ndarray]
    pods: list[Pod]


def generate(start: int, hours: int, requests: int, seed: int) -> Fleet:
    """Production v1 (two pods, one restarts) and canary v2 from ``start + 20 min`` (one pod
    exported from the beginning with zeros, one that appears later, restarts, and creates its
    error counter lazily); the canary is 20 % slower and errs twice as often."""
    rng = np.random.default_rng(seed)
    end = start + hours * 3600
    canary_start = start + 1200
    pods = [
        Pod("p-a", "v1", start),
        Pod("p-b", "v1", start, restart=start + 2 * 3600 + 7 * SCRAPE),
        Pod("c-a", "v2", start),
        Pod(
            "c-b",
            "v2",
            canary_start + 3600,
            restart=canary_start + 7200 + 11 * SCRAPE,
            lazy_errors=True,
        ),
    ]
    ts = np.sort(rng.uniform(start, end, size=requests))
    canary = (rng.random(requests) < 0.15) & (ts >= canary_start)
    ts[np.flatnonzero(canary)[0]] = canary_start  # the canary's first request on a scrape time
    pod = np.where(canary, 2, rng.integers(0, 2, size=requests))
    late = canary & (ts >= pods[3].start)
    pod[late & (rng.random(requests) < 0.5)] = 3
    median = np.where(canary, 120.0, 100.0)
    raw = median * np.exp(0.35 * rng.standard_normal(requests))
    bounds = np.array(LE_MS, dtype=float)
    latency = bounds[np.minimum(np.searchsorted(bounds, raw, "left"), len(bounds) - 1)]
    error = (rng.random(requests) < np.where(canary, 0.02, 0.01)).astype(np.int8)
    rows = {
        "timestamp": ts,
        "model_version": np.where(canary, "v2", "v1"),
        "latency_ms": latency,
        "error": error,
        "pod": pod,
    }
    return Fleet(start, end, canary_start, rows, pods)


def write_parquet(fleet: Fleet, path: Path) -> Path:
    rows = fleet.rows
    micros = np.round(rows["timestamp"] * 1e6).astype("int64")
    table = pa.table(
        {
            "timestamp": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "model_version": rows["model_version"],
            "latency_ms": rows["latency_ms"],
            "error": rows["error"],
        }
    )
    pq.write_table(table, path)
    return path


def openmetrics(fleet: Fleet, *, noise: bool = True) -> str:
    """The fleet's counters and histograms as OpenMetrics text (one family after another)."""
    rows = fleet.rows
    families: dict[str, list[str]] = {
        "ml_requests": ["# TYPE ml_requests counter"],
        "ml_request_errors": ["# TYPE ml_request_errors counter"],
        "ml_request_latency_ms": ["# TYPE ml_request_latency_ms histogram"],
        "ml_request_latency_seconds": ["# TYPE ml_request_latency_seconds histogram"],
    }
    micros = np.round(rows["timestamp"] * 1e6).astype("int64")
    for index, pod in enumerate(fleet.pods):
        mine = rows["pod"] == index
        t = micros[mine]
        lat, err = rows["latency_ms"][mine], rows["error"][mine]
        scrapes = np.arange(pod.start, fleet.end + 1, SCRAPE, dtype=np.int64)
        if pod.start > fleet.start:
            scrapes = scrapes[1:]  # a pod started later is first scraped already counting

        def counts(
            select: np.ndarray, t: np.ndarray = t, pod: Pod = pod, scrapes: np.ndarray = scrapes
        ) -> np.ndarray:
            return _cumulative(t[select], scrapes, pod.restart)

        label = f'job="serving",pod="{pod.name}",model_version="{pod.version}"'
        every = np.ones(t.size, dtype=bool)
        _series(families["ml_requests"], f"ml_requests_total{{{label}}}", scrapes, counts(every))
        errors = counts(err == 1)
        keep = np.ones(scrapes.size, dtype=bool)
        if pod.lazy_errors:
            keep = np.cumsum(errors > 0) > 0  # the series exists from the first error on
        _series(
            families["ml_request_errors"],
            f"ml_request_errors_total{{{label}}}",
            scrapes[keep],
            errors[keep],
        )
        for le in (*LE_MS, None):
            below = every if le is None else lat <= le
            n = counts(below)
            ms = "+Inf" if le is None else f"{float(le)}"
            s = "+Inf" if le is None else repr(le / 1000)
            _series(
                families["ml_request_latency_ms"],
                f'ml_request_latency_ms_bucket{{{label},le="{ms}"}}',
                scrapes,
                n,
            )
            _series(
                families["ml_request_latency_seconds"],
                f'ml_request_latency_seconds_bucket{{{label},le="{s}"}}',
                scrapes,
                n,
            )
        _series(
            families["ml_request_latency_ms"],
            f"ml_request_latency_ms_count{{{label}}}",
            scrapes,
            counts(every),
        )
        _series(
            families["ml_request_latency_seconds"],
            f"ml_request_latency_seconds_count{{{label}}}",
            scrapes,
            counts(every),
        )
    if noise:  # another job's series with the same names: the selector must leave them out
        scrapes = np.arange(fleet.start, fleet.end + 1, SCRAPE, dtype=np.int64)
        other = 'job="other",pod="x",model_version="v2"'
        growing = np.arange(scrapes.size, dtype=np.int64) * 1000
        _series(families["ml_requests"], f"ml_requests_total{{{other}}}", scrapes, growing)
    lines = [line for family in families.values() for line in family]
    return "\n".join([*lines, "# EOF", ""])


def _cumulative(micros: np.ndarray, scrapes: np.ndarray, restart: int | None) -> np.ndarray:
    """At each scrape ``s``: the requests before ``s`` since the pod's last restart."""
    chosen = np.sort(micros)
    total = np.searchsorted(chosen, scrapes * 1_000_000, "left")
    if restart is not None:
        at_restart = np.searchsorted(chosen, restart * 1_000_000, "left")
        total = np.where(scrapes > restart, total - at_restart, total)
    return total


def _series(into: list[str], name: str, times: np.ndarray, values: np.ndarray) -> None:
    into.extend(f"{name} {int(v)} {int(at)}" for at, v in zip(times, values, strict=True))
