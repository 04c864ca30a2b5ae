"""The input features of a version's requests in a window, from files and from PostgreSQL:
the rows pandas selects, the evenly spaced sample beyond the limit, the same rows from both."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_ci.config.logs import LogColumns, SqlLogsConfig
from ml_ci.logs import FileLogs, Window
from ml_ci.logs.features import feature_names, sample_mask
from ml_ci.logs.files import FileSource, LogReader
from ml_ci.logs.simulate import Features, Profile, simulate_logs
from tests.logs.postgres import running_postgres

START = 1_780_000_000.0
HOURS = 4
NAMES = ["x0", "x1", "segment", "label", "latency_ms", "timestamp"]  # as a reference might be
WINDOW = Window(["v1"], START + 3 * 3600, START + 3600, clock=START + HOURS * 3600)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_logs(
        tmp_path_factory.mktemp("features") / "logs.parquet",
        start=START,
        duration=HOURS * 3600,
        requests=30_000,
        canary=("v2", Profile()),
        production=("v1", Profile()),
        seed=4,
        chunk=7_000,  # several batches
        features=Features(numeric=2),
    )


@pytest.fixture(scope="module")
def database(logs: Path) -> Iterator[str]:
    from sqlalchemy import create_engine

    with running_postgres() as url:
        frame = pd.read_parquet(logs)
        frame["model_version"] = frame["model_version"].astype(str)
        engine = create_engine(url)
        frame.to_sql("serving_logs", engine, index=False, chunksize=10_000)
        engine.dispose()
        yield url


def _expected(logs: Path, limit: int | None = None) -> pd.DataFrame:
    """The window's v1 rows by pandas; with ``limit``, the ranks ceil(i n / limit) - 1."""
    frame = pd.read_parquet(logs)
    t = frame["timestamp"].astype("int64") / 1e6
    assert WINDOW.since is not None
    rows = frame[(frame["model_version"] == "v1") & (t >= WINDOW.since) & (t <= WINDOW.now)]
    rows = rows.sort_values("timestamp", kind="stable")
    if limit is not None and len(rows) > limit:
        n = len(rows)
        rows = rows.iloc[[math.ceil(i * n / limit) - 1 for i in range(1, limit + 1)]]
    return rows[["x0", "x1", "segment"]].sort_values(["x0"]).reset_index(drop=True)


def _files(logs: Path) -> FileLogs:
    return FileLogs(LogReader(FileSource(str(logs), Path("/")), LogColumns()))


def test_feature_names_are_the_references_columns_in_the_logs_minus_the_contract() -> None:
    present = ["timestamp", "model_version", "latency_ms", "x1", "x0", "segment", "ts"]
    assert feature_names(NAMES, present, LogColumns()) == ["x0", "x1", "segment"]
    # a renamed contract column is excluded by its configured name
    assert feature_names(["ts", "x0"], present, LogColumns(timestamp="ts")) == ["x0"]


def test_sample_mask_keeps_exactly_limit_evenly_spaced_ranks() -> None:
    rng = np.random.default_rng(0)
    for n, limit in ((10, 3), (1000, 999), (12_345, 1_000), (7, 7), (5, 9)):
        times = rng.permutation(n).astype(float)  # rank = the value
        keep = sample_mask(times, limit)
        kept = np.sort(times[keep]).astype(int).tolist()
        if n <= limit:
            assert kept == list(range(n))
        else:
            assert kept == [math.ceil(i * n / limit) - 1 for i in range(1, limit + 1)]
            assert np.diff(kept).max() - np.diff(kept).min() <= 1  # evenly spaced


def test_file_features_are_the_windows_rows(logs: Path) -> None:
    rows = _files(logs).features("v1", WINDOW, NAMES, 1_000_000)
    assert rows.table.column_names == ["x0", "x1", "segment"] and not rows.sampled
    got = rows.table.to_pandas().sort_values(["x0"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, _expected(logs))
    assert rows.rows == len(got)


def test_file_features_beyond_the_limit_are_the_evenly_spaced_sample(logs: Path) -> None:
    rows = _files(logs).features("v1", WINDOW, NAMES, 1_000)
    assert rows.table.num_rows == 1_000 and rows.sampled and rows.rows > 1_000
    got = rows.table.to_pandas().sort_values(["x0"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, _expected(logs, 1_000))


def test_no_feature_column_and_an_empty_window(logs: Path) -> None:
    files = _files(logs)
    assert files.features("v1", WINDOW, ["label", "timestamp"], 100).table.num_columns == 0
    before = Window(["v1"], START - 10, START - 100, clock=START + HOURS * 3600)
    empty = files.features("v1", before, NAMES, 100)
    assert empty.table.column_names == ["x0", "x1", "segment"] and empty.table.num_rows == 0


@pytest.mark.parametrize("limit", [1_000_000, 1_000])
def test_postgres_gives_the_same_rows_as_the_files(
    logs: Path, database: str, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    from ml_ci.logs.sql import SqlLogs

    monkeypatch.setenv("ML_CI_LOGS_URL", database)
    sql = SqlLogs(SqlLogsConfig(table="serving_logs"), LogColumns()).features(
        "v1", WINDOW, NAMES, limit
    )
    files = _files(logs).features("v1", WINDOW, NAMES, limit)
    assert sql.rows == files.rows and sql.table.column_names == files.table.column_names
    a = sql.table.to_pandas().sort_values(["x0"]).reset_index(drop=True)
    b = files.table.to_pandas().sort_values(["x0"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
