"""Operational signals from Prometheus: request and error counters and a latency histogram.

What is read: the RAW samples of the counters (``<requests>``, ``<errors>``, every
``<latency>_bucket{le}`` series), by range-vector selectors ``metric{...}[d]`` evaluated with
``/api/v1/query`` in chunks; never ``rate()``/``increase()`` (they extrapolate to the window's
edges) nor ``histogram_quantile`` (it interpolates inside a bucket). From the samples, exactly:

* **Increments**, per series (one per pod/instance and ``le``): ``v[i] - v[i-1]``, or ``v[i]``
  when the counter decreased (a restart: it counts again from 0). A series first seen after the
  window opened counts from 0 (its first value is an increment).
* **Buckets**: an increment observed by the sample at ``t`` holds the requests served in
  ``(t_prev, t]``; it goes to bucket ``k`` with ``origin + k*w < t <= origin + (k+1)*w``. When
  the look boundaries fall on scrape times (scrape interval dividing the interval) this is the
  file source's ``[origin + k*w, origin + (k+1)*w)`` by request time.
* **Latency bins**: Prometheus bucket ``(le_prev, le]`` goes to the fixed bin that CONTAINS
  ``le`` (:func:`~ml_ci.logs.buckets.latency_bins`), the highest fixed bin any of its requests
  can be in. So a quantile from Prometheus is never below the one from the raw requests
  (conservative; it is an upper bound within the bucket of ``le``); it is exact when every
  latency lies in the fixed bin of its bucket's ``le``. Common ``le`` values (50, 100, 250...)
  are not fixed edges (``0.1 * 1.02**k``), so they cannot be required to be.
* **The canary's first request**: the time of the last sample BEFORE its request counter first
  increased (the last time it had served nothing), so its first requests fall in look 1.

No outcomes: quality metrics (accuracy, precision, recall, brier) are an error with this source.
"""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from ml_ci.clock import iso
from ml_ci.config.durations import parse_duration
from ml_ci.config.logs import PrometheusLogsConfig
from ml_ci.errors import InputError
from ml_ci.logs.buckets import LATENCY_EDGES_MS, Buckets, Stats, latency_bins
from ml_ci.logs.files import Window

Array = npt.NDArray[np.float64]
Samples = dict[tuple[tuple[str, str], ...], tuple[npt.NDArray[np.int64], Array]]

LOOKBACK_MS = 300_000  # Prometheus' default lookback: the sample before a boundary, if any
CHUNK_MS = 6 * 3600_000  # raw samples are fetched 6 hours at a time


def series_increments(
    times_ms: npt.NDArray[np.int64], values: Array, start_ms: int
) -> tuple[npt.NDArray[np.int64], Array]:
    """Increments of one counter series (samples sorted by time) observed after ``start_ms``:
    ``v[i] - v[i-1]``, or ``v[i]`` after a decrease (a reset: counting again from 0). The
    first sample is a baseline if it is at or before ``start_ms``, else an increment from 0."""
    if times_ms.size == 0:
        return times_ms, values
    previous = np.concatenate([[values[0] if times_ms[0] <= start_ms else 0.0], values[:-1]])
    delta = np.where(values >= previous, values - previous, values)
    after = times_ms > start_ms
    return times_ms[after], delta[after]


def bucket_sums(
    times_ms: npt.NDArray[np.int64], deltas: Array, origin_ms: int, width: int, count: int
) -> Array:
    """Sum of increments per bucket: ``t`` in ``(origin + k*w, origin + (k+1)*w]`` -> ``k``."""
    span = width * 1000
    index = -((origin_ms - times_ms) // span) - 1  # ceil((t - origin) / w) - 1, in integers
    keep = (index >= 0) & (index < count)
    sums: Array = np.bincount(index[keep], weights=deltas[keep], minlength=count).astype(float)
    return sums


def le_bins(le_ms: Array) -> npt.NDArray[np.int64]:
    """Fixed bin of each Prometheus bucket: the one containing its ``le`` (``+Inf``: the last)."""
    bins = np.full(le_ms.shape, len(LATENCY_EDGES_MS) - 2, dtype=np.int64)
    finite = np.isfinite(le_ms)
    bins[finite] = latency_bins(le_ms[finite])
    return bins


def _string(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _regex_literal(value: str) -> str:
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", value)


def _shown(url: str) -> str:
    """The URL without credentials (``user:password@``), for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


class PrometheusLogs:
    """The ``logs.prometheus`` source."""

    def __init__(self, config: PrometheusLogsConfig) -> None:
        self.config = config
        if config.url_env is not None:
            url = os.environ.get(config.url_env, "")
            self.name = f"prometheus (${config.url_env})"
            if not url:
                raise InputError(
                    f"logs.prometheus.url_env: environment variable {config.url_env} is not set; "
                    "export the Prometheus base URL in it (e.g. http://prometheus:9090)"
                )
            if not re.match(r"^https?://", url):
                raise InputError(
                    f"logs {self.name}: the value of {config.url_env} is not an http(s) URL"
                )
        else:
            url = config.url or ""
            self.name = f"prometheus {_shown(url)}"
        self.url = url.rstrip("/")
        self.lookback = parse_duration(config.lookback)

    # -- HTTP ------------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any], what: str) -> Any:
        import requests

        timeout = self.config.timeout
        try:
            answer = requests.get(
                f"{self.url}{path}", params=params, timeout=(min(timeout, 10.0), timeout)
            )
        except requests.Timeout:
            raise InputError(
                f"logs {self.name}: no answer within {timeout:g} s to {what}; "
                "check the server or raise logs.prometheus.timeout"
            ) from None
        except requests.RequestException as error:
            raise InputError(
                f"logs {self.name}: cannot reach the server ({type(error).__name__}); "
                "check logs.prometheus.url and that Prometheus is running"
            ) from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise InputError(
                f"logs {self.name}: answered HTTP {answer.status_code}, not the Prometheus "
                "HTTP API; check logs.prometheus.url (the server's base URL)"
            )
        if body["status"] != "success":
            reason = " ".join(str(body.get("error", "")).split())
            raise InputError(
                f"logs {self.name}: PromQL error ({body.get('errorType', 'error')}: {reason}) "
                f"in {what}; check logs.prometheus"
            )
        return body.get("data")

    # -- selectors ---------------------------------------------------------------------------
    def _selector(self, metric: str, versions: list[str]) -> str:
        label = self.config.version_label
        if len(versions) == 1:
            matcher = f"{label}={_string(versions[0])}"
        else:
            matcher = f"{label}=~{_string('|'.join(_regex_literal(v) for v in versions))}"
        extra = self.config.selector.strip().rstrip(",").strip()
        return f"{metric}{{{matcher}{', ' + extra if extra else ''}}}"

    def _base(self, metric: str) -> str:
        extra = self.config.selector.strip().rstrip(",").strip()
        return f"{metric}{{{extra}}}" if extra else metric

    def _versions_present(self, metric: str, start_ms: int, end_ms: int) -> list[str]:
        data = self._get(
            f"/api/v1/label/{self.config.version_label}/values",
            {"match[]": self._base(metric), "start": start_ms / 1000, "end": end_ms / 1000},
            f"the series of {self._base(metric)}",
        )
        return sorted(str(value) for value in (data or []))

    def _require_metric(self, key: str, start_ms: int, end_ms: int) -> list[str]:
        """The versions that ``logs.prometheus.<key>`` has series for; none at all: an error."""
        metric = self._metric(key)
        present = self._versions_present(metric, start_ms, end_ms)
        if not present:
            raise InputError(
                f"logs {self.name}: metric {self._base(metric)} (logs.prometheus.{key}) has "
                f"no series with label {self.config.version_label!r} between {iso(start_ms / 1000)} "
                f"and {iso(end_ms / 1000)}; check the metric name, version_label and selector"
            )
        return present

    def _metric(self, key: str) -> str:
        name: str = getattr(self.config, key)
        return f"{name}_bucket" if key == "latency" else name

    # -- raw samples -----------------------------------------------------------------------------
    def _samples(self, selector: str, start_ms: int, end_ms: int) -> Samples:
        """Every raw sample of the matching series in ``[start, end]`` (ms), per series."""
        collected: dict[tuple[tuple[str, str], ...], dict[int, float]] = defaultdict(dict)
        low = start_ms
        while low < end_ms:
            high = min(low + CHUNK_MS, end_ms)
            self._chunk(selector, low, high, collected)
            low = high
        return _arrays(collected)

    def _chunk(
        self,
        selector: str,
        low: int,
        high: int,
        into: dict[tuple[tuple[str, str], ...], dict[int, float]],
    ) -> None:
        query = f"{selector}[{high - low}ms]"
        data = self._get("/api/v1/query", {"query": query, "time": high / 1000}, query)
        for series in data.get("result", []) if isinstance(data, dict) else []:
            labels = tuple(
                sorted((k, str(v)) for k, v in series.get("metric", {}).items() if k != "__name__")
            )
            target = into[labels]
            for at, value in series.get("values", []):
                number = float(value)
                if math.isfinite(number) and low <= round(float(at) * 1000) <= high:
                    target[round(float(at) * 1000)] = number  # chunk seams: once per time

    # -- the source protocol ------------------------------------------------------------------
    def first_request(self, version: str, window: Window) -> float:
        """The last sample time before ``version``'s request counter first increased."""
        start_ms = round(
            1000 * (window.since if window.since is not None else window.now - self.lookback)
        )
        now_ms = math.floor(window.now * 1000)
        present = self._require_metric("requests", start_ms - LOOKBACK_MS, now_ms)
        if version not in present:
            raise InputError(
                f"logs {self.name}: version {version!r} has no series of "
                f"{self._base(self.config.requests)} (label {self.config.version_label!r}); "
                f"versions present: {', '.join(present)}"
            )
        selector = self._selector(self.config.requests, [version])
        collected: dict[tuple[tuple[str, str], ...], dict[int, float]] = defaultdict(dict)
        low = start_ms - LOOKBACK_MS
        while low < now_ms:
            high = min(low + CHUNK_MS, now_ms)
            self._chunk(selector, low, high, collected)
            low = high
            found = first_increase(_arrays(collected), start_ms)
            if found is not None:
                return max(found, start_ms) / 1000
        raise InputError(
            f"logs {self.name}: version {version!r} has no request in the window "
            f"({iso(start_ms / 1000)} to {iso(window.now)}); widen --since/--now "
            "(or logs.prometheus.lookback)"
        )

    def bucketize(
        self, window: Window, origin: float, width: int, count: int, outcomes: bool
    ) -> Buckets:
        """Requests, errors and latency per version and bucket from raw counter samples."""
        if outcomes:
            raise InputError(
                f"logs {self.name}: quality gates and objectives (accuracy, precision, recall, "
                "brier) need outcomes, which Prometheus does not have; keep only error_rate "
                "and latency ones, or read the logs from files or SQL"
            )
        versions = list(window.versions)
        origin_ms = round(origin * 1000)
        end_ms = origin_ms + count * width * 1000
        start_ms = origin_ms - LOOKBACK_MS
        stats = {v: Stats.zeros(count) for v in versions}
        for key in ("requests", "latency", "errors"):
            present = self._require_metric(key, start_ms, end_ms)
            if key != "errors":  # an error counter may be created at the first error
                missing = [v for v in versions if v not in present]
                if missing:
                    raise InputError(
                        f"logs {self.name}: version {missing[0]!r} has no series of "
                        f"{self._base(self._metric(key))} (logs.prometheus.{key}) between "
                        f"{iso(start_ms / 1000)} and {iso(end_ms / 1000)}; versions present: "
                        f"{', '.join(present)}"
                    )
            samples = self._samples(self._selector(self._metric(key), versions), start_ms, end_ms)
            if key == "latency":
                self._latency(samples, stats, origin_ms, width, count)
                continue
            for labels, (times, values) in samples.items():
                name = dict(labels).get(self.config.version_label)
                if name not in stats:
                    continue
                t, d = series_increments(times, values, origin_ms)
                getattr(stats[name], key)[:] += bucket_sums(t, d, origin_ms, width, count)
        return Buckets(origin=int(origin), width=width, count=count, versions=stats)

    def _latency(
        self, samples: Samples, stats: dict[str, Stats], origin_ms: int, width: int, count: int
    ) -> None:
        """Cumulative ``le`` counts per bucket, differenced into Prometheus buckets, each put in
        the fixed bin containing its ``le``."""
        cumulative: dict[str, dict[float, Array]] = defaultdict(dict)
        for labels, (times, values) in samples.items():
            named = dict(labels)
            name = named.get(self.config.version_label)
            if name not in stats:
                continue
            if "le" not in named:
                raise InputError(
                    f"logs {self.name}: {self._metric('latency')} series without an 'le' label; "
                    "logs.prometheus.latency must name a classic histogram"
                )
            try:
                le = float(named["le"])
            except ValueError:
                raise InputError(
                    f"logs {self.name}: {self._metric('latency')} has le={named['le']!r}, "
                    "not a number"
                ) from None
            if self.config.latency_unit == "s":
                le = round(le * 1000, 9)
            t, d = series_increments(times, values, origin_ms)
            sums = bucket_sums(t, d, origin_ms, width, count)
            per_le = cumulative[name]
            per_le[le] = per_le.get(le, 0) + sums
        for name, per_le in cumulative.items():
            bounds = np.array(sorted(per_le))
            counts = np.stack([per_le[b] for b in bounds], axis=1)  # buckets x le (cumulative)
            within = np.diff(counts, axis=1, prepend=0.0)
            if (within < -1e-9).any():
                bucket, column = np.argwhere(within < -1e-9)[0]
                raise InputError(
                    f"logs {self.name}: {self._metric('latency')} of {name!r} is not cumulative "
                    f"(le={bounds[column]:g} counts fewer than the le below it in the bucket "
                    f"ending {iso((origin_ms / 1000) + (bucket + 1) * width)}); check the exporter"
                )
            bins = le_bins(bounds)
            target = stats[name].latency
            for column, fixed in enumerate(bins):
                target[:, fixed] += within[:, column]

    def features(self, version: str, window: Window, candidates: Any, limit: int) -> None:
        """Prometheus keeps counters, not requests: no input features to compare."""
        return None


def _arrays(collected: dict[tuple[tuple[str, str], ...], dict[int, float]]) -> Samples:
    out: Samples = {}
    for labels, points in collected.items():
        times = np.array(sorted(points), dtype=np.int64)
        out[labels] = (times, np.array([points[int(t)] for t in times], dtype=np.float64))
    return out


def first_increase(samples: Samples, start_ms: int) -> int | None:
    """Earliest 'served nothing yet' time over the series (see :meth:`first_request`)."""
    best: int | None = None
    for times, values in samples.values():
        if times.size == 0:
            continue
        previous = np.concatenate([[values[0] if times[0] <= start_ms else 0.0], values[:-1]])
        delta = np.where(values >= previous, values - previous, values)
        rising = np.flatnonzero((delta > 0) & (times > start_ms))
        if rising.size == 0:
            continue
        i = int(rising[0])
        if i > 0:
            candidate = int(times[i - 1])
        else:  # a series that appeared already counting: one scrape interval before it
            # (1 ms for a lone sample: its increment must still fall after the start)
            gap = int(np.median(np.diff(times))) if times.size > 1 else 1
            candidate = int(times[0]) - max(gap, 1)
        best = candidate if best is None else min(best, candidate)
    return best


__all__ = [
    "PrometheusLogs",
    "Samples",
    "bucket_sums",
    "first_increase",
    "le_bins",
    "series_increments",
]
