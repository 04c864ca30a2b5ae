"""The Prometheus source against a real Prometheus (Debian's package) loaded by backfilling:
the same buckets and the same verdict as the Parquet file of the same requests, counter resets
handled, one-line errors; and the arithmetic (increments, boundaries, bins) by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ml_ci.cli import main
from ml_ci.config.logs import LogColumns, LogsConfig, PrometheusLogsConfig
from ml_ci.errors import InputError
from ml_ci.logs import FileLogs, Window, open_source
from ml_ci.logs.buckets import LATENCY_EDGES_MS, Stats, latency_bins
from ml_ci.logs.files import FileSource, LogReader
from ml_ci.logs.prometheus import (
    PrometheusLogs,
    Samples,
    bucket_sums,
    first_increase,
    le_bins,
    series_increments,
)
from tests.logs.promdata import LE_MS, SCRAPE, Fleet, generate, openmetrics, write_parquet
from tests.prometheus import Prometheus, start_prometheus

HOURS = 4
START = (int(time.time()) // 3600) * 3600 - (HOURS + 2) * 3600  # recent: inside retention
WIDTH = 600


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, Path, Fleet]]:
    folder = tmp_path_factory.mktemp("prom")
    fleet = generate(START, HOURS, requests=30_000, seed=5)
    path = write_parquet(fleet, folder / "logs.parquet")
    server = start_prometheus(folder, openmetrics(fleet), [])
    try:
        yield server, path, fleet
    finally:
        server.stop()


def _sources(server: Prometheus, path: Path, **extra: str) -> tuple[FileLogs, PrometheusLogs]:
    files = FileLogs(LogReader(FileSource(str(path), Path("/")), LogColumns()))
    prom = PrometheusLogs(PrometheusLogsConfig(url=server.url, selector='job="serving"', **extra))
    return files, prom


def _assert_same(a: Stats, b: Stats) -> None:
    np.testing.assert_array_equal(a.requests, b.requests)
    np.testing.assert_array_equal(a.errors, b.errors)
    np.testing.assert_array_equal(a.latency, b.latency)


def test_prometheus_buckets_equal_the_file_buckets(served: tuple[Prometheus, Path, Fleet]) -> None:
    server, path, fleet = served
    files, prom = _sources(server, path)
    window = Window(["v2", "v1"], float(fleet.end))
    origin = files.first_request("v2", window)
    assert origin == fleet.canary_start
    assert prom.first_request("v2", window) == origin  # the last scrape before it counted
    count = int((fleet.end - origin) // WIDTH)
    a = files.bucketize(window, origin, WIDTH, count, outcomes=False)
    b = prom.bucketize(window, origin, WIDTH, count, outcomes=False)
    for version in ("v1", "v2"):
        _assert_same(a.versions[version], b.versions[version])
    # the data exercise what they should: restarts inside the window, every pod and bound used
    assert a.versions["v2"].requests.sum() > 2000 and a.versions["v2"].errors.sum() > 20
    used = np.flatnonzero(a.versions["v1"].latency.sum(axis=0))
    assert set(used) <= set(le_bins(np.array(LE_MS, dtype=float))) and used.size > 10
    seconds = prom_seconds(server).bucketize(window, origin, WIDTH, count, outcomes=False)
    for version in ("v1", "v2"):
        _assert_same(a.versions[version], seconds.versions[version])


def prom_seconds(server: Prometheus) -> PrometheusLogs:
    return PrometheusLogs(
        PrometheusLogsConfig(
            url=server.url,
            selector='job="serving"',
            latency="ml_request_latency_seconds",
            latency_unit="s",
        )
    )


def test_boundaries_off_the_scrape_grid_still_add_up(
    served: tuple[Prometheus, Path, Fleet],
) -> None:
    # a monitor window ends at an arbitrary now: every sample is counted once, in order
    server, path, fleet = served
    _, prom = _sources(server, path)
    origin = fleet.start + 7.5  # not a scrape time
    buckets = prom.bucketize(Window(["v1"], origin + 20 * 300), origin, 300, 20, False)
    rows = fleet.rows
    v1 = rows["model_version"] == "v1"
    # sample at s counts requests before s: the window holds the scrapes in (origin, end]
    first, last = fleet.start + SCRAPE, fleet.start + 20 * 300  # scrapes 30 .. 6000
    expected = v1 & (rows["timestamp"] >= first - SCRAPE) & (rows["timestamp"] < last)
    assert buckets.versions["v1"].requests.sum() == expected.sum()
    assert buckets.versions["v1"].latency.sum() == expected.sum()


def _canary(
    capsys: pytest.CaptureFixture[str], config: Path, now: int, *extra: str
) -> tuple[int, str, str]:
    code = main(
        [
            "canary",
            "--config",
            str(config),
            "--canary",
            "v2",
            "--production",
            "v1",
            "--now",
            str(now),
            "--replay",
            "--json",
            *extra,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


GATES = (
    "canary:\n  traffic: 0.15\n  gates:\n"
    "    - {metric: error_rate, margin: 0.005}\n"
    "    - {metric: latency_p95_ms, margin: 0.05, relative: true}\n"
)


def test_same_verdict_from_prometheus_and_parquet(
    served: tuple[Prometheus, Path, Fleet], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, path, fleet = served
    config = tmp_path / "ml-ci.yaml"
    config.write_text(
        f"logs: {{prometheus: {{url: '{server.url}', selector: 'job=\"serving\"'}}}}\n" + GATES
    )
    code_prom, out_prom, err_prom = _canary(capsys, config, fleet.end)
    code_file, out_file, _ = _canary(capsys, config, fleet.end, "--logs", str(path))
    assert code_prom == code_file == 1, err_prom  # +20 % latency: rolled back
    assert json.loads(out_prom) == json.loads(out_file)
    assert json.loads(out_prom)["verdict"] == "rollback"


def test_monitor_reads_prometheus_like_files(
    served: tuple[Prometheus, Path, Fleet], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, path, fleet = served
    config = tmp_path / "ml-ci.yaml"
    config.write_text(
        f"logs: {{prometheus: {{url: '{server.url}', selector: 'job=\"serving\"'}}}}\n"
        "monitor:\n  window: 3h\n  recent: 1h\n  bucket: 5m\n  objectives:\n"
        "    - {metric: error_rate, max: 0.02}\n"
        "    - {metric: latency_p95_ms, max: 200}\n"
    )
    now = str(fleet.end)
    outs = []
    for extra in ([], ["--logs", str(path)]):
        code = main(
            ["monitor", "--config", str(config), "--version", "v1", "--now", now, "--json", *extra]
        )
        out, err = capsys.readouterr()
        assert code in (0, 1), err
        outs.append(json.loads(out))
    # input drift needs the requests' features, which Prometheus does not keep
    assert outs[0].pop("drift_reason").startswith("not available from Prometheus")
    assert outs[1].pop("drift_reason") is not None
    assert outs[0] == outs[1]


def test_one_line_errors(
    served: tuple[Prometheus, Path, Fleet], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, _, fleet = served
    config = tmp_path / "ml-ci.yaml"

    def run(prometheus: str, gates: str = GATES) -> str:
        config.write_text(f"logs: {{prometheus: {{{prometheus}}}}}\n" + gates)
        code, out, err = _canary(capsys, config, fleet.end)
        problems = [line for line in err.splitlines() if not line.startswith("... ")]
        assert code == 2 and out == "" and len(problems) == 1, err  # one line besides progress
        return problems[0]

    url = f"url: '{server.url}'"
    closed = server.url.rsplit(":", 1)[0] + ":1"
    assert "cannot reach the server" in run(f"url: '{closed.replace('//', '//me:s3cret@')}'")
    assert "s3cret" not in run(f"url: '{closed.replace('//', '//me:s3cret@')}'")
    assert "PromQL error" in run(url + ", selector: 'pod=~\"(\"'")
    err = run(url + ", requests: nope_total")
    assert "metric nope_total (logs.prometheus.requests) has no series" in err
    config.write_text(f"logs: {{prometheus: {{{url}}}}}\n" + GATES)
    code = main(
        [
            "canary",
            "--config",
            str(config),
            "--canary",
            "v9",
            "--production",
            "v1",
            "--now",
            str(fleet.end),
            "--json",
        ]
    )
    err = capsys.readouterr().err
    assert (
        code == 2 and "version 'v9' has no series of ml_requests_total" in err and "v1, v2" in err
    )
    quality = GATES + "    - {metric: accuracy, margin: 0.01}\n"
    assert "need outcomes, which Prometheus does not have" in run(url, quality)


def test_url_from_the_environment(
    served: tuple[Prometheus, Path, Fleet], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _, fleet = served
    logs = LogsConfig(prometheus=PrometheusLogsConfig(url_env="PROM_URL", selector='job="serving"'))
    with pytest.raises(InputError, match="PROM_URL is not set"):
        open_source(logs, Path("."), None)
    monkeypatch.setenv("PROM_URL", server.url)
    source = open_source(logs, Path("."), None)
    assert source.name == "prometheus ($PROM_URL)"
    assert source.first_request("v2", Window(["v2"], float(fleet.end))) == fleet.canary_start


# -- arithmetic, by hand ----------------------------------------------------------------------


def test_increments_count_from_zero_after_a_reset() -> None:
    times = np.array([0, 30, 60, 90, 120, 150], dtype=np.int64) * 1000
    values = np.array([5, 8, 12, 3, 9, 9], dtype=float)  # restart between 60 and 90
    t, d = series_increments(times, values, start_ms=0)
    np.testing.assert_array_equal(t, times[1:])
    np.testing.assert_array_equal(d, [3, 4, 3, 6, 0])
    # a series first seen after the start counts from 0
    _, d = series_increments(times[2:], values[2:], start_ms=0)
    np.testing.assert_array_equal(d, [12, 3, 6, 0])


def test_a_sample_on_a_boundary_closes_its_bucket() -> None:
    times = np.array([1000, 600_000, 600_001, 1_200_000, 1_200_001], dtype=np.int64)
    sums = bucket_sums(times, np.array([1, 2, 4, 8, 16.0]), origin_ms=0, width=600, count=2)
    np.testing.assert_array_equal(sums, [3, 12])  # (0, 600] and (600, 1200]; 1200.001 is out


def test_latency_mapping_is_conservative() -> None:
    # for any latencies, the Prometheus bins never put mass below the true fixed bins: every
    # cumulative count (hence every quantile bound) is on the slow side
    rng = np.random.default_rng(3)
    latency = 100 * np.exp(0.5 * rng.standard_normal(20_000))
    bounds = np.array([*LE_MS, np.inf], dtype=float)
    true_bins = np.bincount(latency_bins(latency), minlength=len(LATENCY_EDGES_MS) - 1)
    per_le = np.array([(latency <= le).sum() for le in bounds], dtype=float)
    prom = PrometheusLogs(PrometheusLogsConfig(url="http://127.0.0.1:1"))
    stats = {"v": Stats.zeros(1)}
    samples: Samples = {
        (("le", str(le)), ("model_version", "v")): (
            np.array([0, 30_000], dtype=np.int64),
            np.array([0.0, n]),
        )
        for le, n in zip(bounds, per_le, strict=True)
    }
    prom._latency(samples, stats, origin_ms=0, width=60, count=1)
    mapped = stats["v"].latency[0]
    assert mapped.sum() == latency.size
    assert (np.cumsum(mapped) <= np.cumsum(true_bins)).all()
    assert (np.cumsum(mapped) < np.cumsum(true_bins)).any()  # coarse buckets: strictly slower
    # an le on a fixed edge goes to the bin starting there; between edges, to the bin around it
    np.testing.assert_array_equal(le_bins(LATENCY_EDGES_MS[[5, 6]]), [5, 6])
    assert le_bins(np.array([100.0]))[0] == np.searchsorted(LATENCY_EDGES_MS, 100.0, "right") - 1


def test_the_canary_starts_at_the_last_sample_that_had_served_nothing() -> None:
    ms = np.array([0, 30_000, 60_000, 90_000], dtype=np.int64)
    zero_first = {(("pod", "a"),): (ms, np.array([0, 0, 4, 9.0]))}
    assert first_increase(zero_first, start_ms=0) == 30_000
    # a series that appears already counting: one (median) scrape interval before it
    late = {(("pod", "b"),): (ms[1:], np.array([2, 5, 5.0]))}
    assert first_increase({**zero_first, **late}, start_ms=0) == 0
    lone = {(("pod", "c"),): (ms[2:3], np.array([3.0]))}
    start = first_increase(lone, start_ms=0)
    assert start is not None and start < 60_000
    assert bucket_sums(ms[2:3], np.array([3.0]), start, 600, 1)[0] == 3  # counted in look 1
    assert first_increase({(("pod", "d"),): (ms, np.zeros(4))}, start_ms=0) is None
