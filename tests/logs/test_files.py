"""File sources of serving logs: buckets against a pandas reference, formats, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml_ci.cli import main
from ml_ci.config.logs import LogColumns
from ml_ci.logs.buckets import LATENCY_EDGES_MS
from ml_ci.logs.files import FileSource, LogReader, Window, bucketize, first_request
from ml_ci.logs.simulate import Profile, simulate_logs

START = 1_780_000_000.0
DAY = 86_400.0


@pytest.fixture
def parquet_logs(tmp_path: Path) -> Path:
    return simulate_logs(
        tmp_path / "logs.parquet",
        start=START,
        duration=6 * 3600,
        requests=30_000,
        canary=("v2", Profile(error_rate=0.02)),
        production=("v1", Profile()),
        seed=3,
    )


def _buckets(path: str, base: Path, since: float | None = None) -> tuple[float, object]:
    reader = LogReader(FileSource(path, base), LogColumns())
    window = Window(["v2", "v1"], START + DAY, since)
    origin = first_request(reader, "v2", window)
    return origin, bucketize(reader, window, origin, 600, 36, outcomes=True)


def test_buckets_match_a_pandas_reference(parquet_logs: Path) -> None:
    origin, buckets = _buckets(str(parquet_logs), Path("/"))
    frame = pd.read_parquet(parquet_logs)
    seconds = frame["timestamp"].astype("int64") / 1e6
    canary = frame[frame["model_version"] == "v2"]
    assert origin == pytest.approx(seconds[frame["model_version"] == "v2"].min())
    bucket = np.floor((seconds - origin) / 600)
    for version in ("v1", "v2"):
        rows = frame[(frame["model_version"] == version) & (bucket >= 0) & (bucket < 36)]
        b = bucket[rows.index].astype(int)
        stats = buckets.versions[version]  # type: ignore[attr-defined]
        np.testing.assert_array_equal(stats.requests, np.bincount(b, minlength=36))
        np.testing.assert_array_equal(stats.errors, np.bincount(b, rows["error"], minlength=36))
        hist = np.histogram(rows["latency_ms"], bins=[*LATENCY_EDGES_MS[:-1].tolist(), 1e300])[0]
        np.testing.assert_array_equal(stats.latency.sum(axis=0), hist)
        # outcomes count in the bucket of their arrival, so late ones fall out of the window
        arrival = rows["label_time"].astype("int64") / 1e6
        label_bucket = np.floor((arrival - origin) / 600)
        known = (label_bucket < 36).to_numpy()
        assert stats.labelled.sum() == known.sum()
        right = (rows["y_pred"] == rows["y_true"]).to_numpy()
        assert stats.correct.sum() == right[known].sum()
    assert len(canary) > 0


def test_csv_glob_and_partitioned_folder_give_the_same_buckets(
    parquet_logs: Path, tmp_path: Path
) -> None:
    table = pq.read_table(parquet_logs)
    frame = table.to_pandas()
    text = frame.copy()
    for column in ("timestamp", "label_time"):
        text[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    half = len(text) // 2
    (tmp_path / "csv").mkdir()
    text.iloc[:half].to_csv(tmp_path / "csv" / "a.csv", index=False)
    text.iloc[half:].to_csv(tmp_path / "csv" / "b.csv", index=False)
    folder = tmp_path / "parts"
    pq.write_to_dataset(table.cast(table.schema), folder, partition_cols=["model_version"])
    _, reference = _buckets(str(parquet_logs), Path("/"))
    for path in (str(tmp_path / "csv" / "*.csv"), str(folder)):
        _, got = _buckets(path, Path("/"))
        for version in ("v1", "v2"):
            ref, new = reference.versions[version], got.versions[version]  # type: ignore[attr-defined]
            np.testing.assert_array_equal(new.requests, ref.requests)
            np.testing.assert_array_equal(new.latency, ref.latency)
            np.testing.assert_array_equal(new.labelled, ref.labelled)


def test_since_drops_earlier_requests(parquet_logs: Path) -> None:
    origin, _ = _buckets(str(parquet_logs), Path("/"))
    later, buckets = _buckets(str(parquet_logs), Path("/"), since=START + 3600)
    assert later >= START + 3600 > origin
    frame = pd.read_parquet(parquet_logs)
    seconds = frame["timestamp"].astype("int64") / 1e6
    kept = (seconds >= later) & (seconds < later + 36 * 600) & (frame["model_version"] == "v1")
    assert buckets.versions["v1"].requests.sum() == kept.sum()  # type: ignore[attr-defined]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["canary", "--canary", "v2", "--production", "v1", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path: Path, frame: pd.DataFrame) -> str:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _frame(n: int = 50) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": [f"2026-05-01T00:{i // 60:02d}:{i % 60:02d}Z" for i in range(n)],
            "model_version": ["v2" if i % 5 == 0 else "v1" for i in range(n)],
            "latency_ms": [10.0 + i for i in range(n)],
            "error": [0] * n,
            "request_id": [f"r{i}" for i in range(n)],
        }
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda f: f.drop(columns=["latency_ms"]),
            "column 'latency_ms' (logs.columns.latency_ms) is missing",
        ),
        (
            lambda f: f.assign(model_version="v1"),
            "version 'v2' is absent from column 'model_version'",
        ),
        (lambda f: f.assign(timestamp="2100-06-01T00:00:00Z"), "rows are in the future"),
        (
            lambda f: f.assign(
                timestamp=[t if i % 2 else t[:-1] for i, t in enumerate(f.timestamp)]
            ),
            "mixes times with and without a zone offset",
        ),
        (lambda f: f.assign(request_id="same"), "request ids occur more than once"),
    ],
)
def test_bad_logs_are_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: object, expected: str
) -> None:
    path = _write(tmp_path, change(_frame()))  # type: ignore[operator]
    code, _out, err = _run(capsys, "--logs", path, "--now", "2026-05-02T00:00:00Z")
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("ml-ci:")]
    assert len(lines) == 1 and expected in lines[0] and "bad.csv" in lines[0]
    assert "Traceback" not in err


def test_empty_window_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, _frame())
    code, _, err = _run(
        capsys, "--logs", path, "--now", "2026-05-02T00:00:00Z", "--since", "2026-05-01T12:00:00Z"
    )
    assert code == 2 and "version 'v2' has no request in the window" in err


def test_mixed_zones_across_parquet_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _frame()
    times = pd.to_datetime(frame["timestamp"])
    folder = tmp_path / "logs"
    folder.mkdir()
    for name, zone, part in (("a", "UTC", frame.iloc[:25]), ("b", "Europe/Paris", frame.iloc[25:])):
        table = pa.Table.from_pandas(part.assign(timestamp=times[part.index].dt.tz_convert(zone)))
        pq.write_table(table, folder / f"{name}.parquet")
    code, _, err = _run(capsys, "--logs", str(folder), "--now", "2026-05-02T00:00:00Z")
    assert code == 2 and "files mix time zones" in err


def test_mixed_offsets_in_text_timestamps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _frame()
    frame["timestamp"] = [
        t[:-1] + ("+02:00" if i % 2 else "Z") for i, t in enumerate(frame.timestamp)
    ]
    path = tmp_path / "text.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path)  # text column: no reader-side parsing
    code, _, err = _run(capsys, "--logs", str(path), "--now", "2026-05-02T00:00:00Z")
    assert code == 2 and "mixes time zones (+02:00, Z)" in err


def test_latency_bins_agree_with_a_binary_search_at_and_between_edges() -> None:
    from ml_ci.logs.buckets import latency_bins

    rng = np.random.default_rng(0)
    edges = LATENCY_EDGES_MS
    values = np.concatenate(
        [rng.lognormal(3, 2, 100_000), edges[:-1], np.nextafter(edges[1:-1], 0), [0.0, 1e9]]
    )
    expected = np.searchsorted(edges, values, side="right") - 1
    np.testing.assert_array_equal(latency_bins(values), expected)
