"""The CBPE sums of the log layer (rows without an outcome as of ``now``) against a direct
pandas/NumPy computation on the same rows, and their bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml_ci.config.logs import LogColumns
from ml_ci.errors import InputError
from ml_ci.logs.buckets import Stats
from ml_ci.logs.files import FileSource, LogReader, Window, bucketize

START = 1_780_000_000.0
WIDTH = 600
HOURS = 6


def write_scored_logs(path: Path, *, n: int = 20_000, seed: int = 5) -> Path:
    """Two versions over HOURS; calibrated scores; outcomes arrive ~30 min later, 20 % never;
    5 % of rows (never labelled) have no score and 2 % no prediction."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(START, START + HOURS * 3600, n))
    p = rng.uniform(0, 1, n)
    y_true = (rng.random(n) < p).astype(float)
    y_pred = (p >= 0.5).astype(float)
    never = rng.random(n) < 0.2
    arrival = times + rng.exponential(1800, n)
    # (a labelled row without a score is an error: the Brier score needs it)
    no_score, no_pred = never & (rng.random(n) < 0.25), rng.random(n) < 0.02
    micros = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "timestamp": pa.array((times * 1e6).astype(np.int64), micros),
            "model_version": pa.array(np.where(rng.random(n) < 0.3, "v2", "v1")),
            "latency_ms": rng.uniform(10, 200, n),
            "error": np.zeros(n, dtype=np.int8),
            "y_pred": pa.array(y_pred, mask=no_pred),
            "y_score": pa.array(p.round(4), mask=no_score),
            "y_true": pa.array(y_true, mask=never),
            "label_time": pa.array((arrival * 1e6).astype(np.int64), micros, mask=never),
        }
    )
    pq.write_table(table, path)
    return path


def _seconds(column: pd.Series) -> np.ndarray:
    micros = column.to_numpy(dtype="datetime64[us]").astype(np.int64).astype(float)
    micros[column.isna().to_numpy()] = np.nan
    return micros / 1e6


def reference(
    frame: pd.DataFrame, version: str, origin: float, count: int, now: float
) -> dict[str, np.ndarray]:
    """Directly on the rows: labelled by arrival, unlabelled-as-of-now by request time."""
    rows = frame[frame["model_version"] == version]
    ts, label = _seconds(rows["timestamp"]), _seconds(rows["label_time"])
    arrived = np.fmax(np.where(np.isnan(label), ts, label), ts)
    end = origin + count * WIDTH
    served = (ts >= origin) & (ts < end) & (ts <= now)
    known = rows["y_true"].notna().to_numpy()
    labelled = served & known & (arrived < end) & (arrived <= now)
    score = rows["y_score"].to_numpy(dtype=float)
    pred = rows["y_pred"].to_numpy(dtype=float)
    unlabelled = served & ~labelled & ~np.isnan(score) & ~np.isnan(pred)
    # P(own prediction right): the column of a (1 - p, p) probability matrix picked by y_pred
    proba = np.column_stack([1 - score, score])
    chosen = np.nan_to_num(pred).astype(int)[:, None]
    own = np.take_along_axis(proba, chosen, axis=1)[:, 0]
    request = np.floor((ts - origin) / WIDTH).astype(int)
    label_bucket = np.floor((arrived - origin) / WIDTH).astype(int)
    return {
        "labelled": np.bincount(label_bucket[labelled], minlength=count),
        "unlabelled_scored": np.bincount(request[unlabelled], minlength=count),
        "expected_correct": np.bincount(request[unlabelled], own[unlabelled], minlength=count),
        "scored_or_labelled": np.array(
            (labelled | unlabelled).sum()  # every such row counts once
        ),
        # outcomes that exist but after now or after the last bucket: unlabelled as of now
        "late": np.array((unlabelled & known).sum()),
    }


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scored_logs(tmp_path_factory.mktemp("cbpe") / "logs.parquet")


@pytest.mark.parametrize(
    ("origin", "count", "now"),
    [
        # the monitor: the buckets end at now
        (START + 3600, 30, START + 3600 + 30 * WIDTH),
        # now inside the last bucket: outcomes between now and the bucket's end are not known
        (START + 3600, 30, START + 3600 + 29.5 * WIDTH),
        # the canary: the buckets end before now (outcomes after their end are not counted)
        (START, 24, START + HOURS * 3600),
    ],
)
def test_unlabelled_sums_match_a_direct_computation(
    logs: Path, origin: float, count: int, now: float
) -> None:
    reader = LogReader(FileSource(str(logs), Path("/")), LogColumns())
    clock = START + HOURS * 3600  # a replay: rows after now exist
    window = Window(["v1", "v2"], now, origin, clock)
    buckets = bucketize(reader, window, origin, WIDTH, count, True)
    frame = pd.read_parquet(logs)
    for version in ("v1", "v2"):
        stats: Stats = buckets.versions[version]
        ref = reference(frame, version, origin, count, now)
        assert ref["unlabelled_scored"].sum() > 100 and ref["late"] > 10  # the cases happen
        np.testing.assert_array_equal(stats.labelled, ref["labelled"])
        np.testing.assert_array_equal(stats.unlabelled_scored, ref["unlabelled_scored"])
        np.testing.assert_allclose(stats.expected_correct, ref["expected_correct"], rtol=1e-12)
        covered = stats.labelled.sum() + stats.unlabelled_scored.sum()
        assert covered == ref["scored_or_labelled"]


def test_cumulative_and_at_keep_the_new_sums(logs: Path) -> None:
    reader = LogReader(FileSource(str(logs), Path("/")), LogColumns())
    now = START + HOURS * 3600
    stats = bucketize(reader, Window(["v1"], now, START), START, WIDTH, 36, True).versions["v1"]
    ends = np.array([5, 35])
    picked = stats.cumulative().at(ends)
    np.testing.assert_allclose(picked.expected_correct, np.cumsum(stats.expected_correct)[ends])
    np.testing.assert_array_equal(
        picked.unlabelled_scored, np.cumsum(stats.unlabelled_scored)[ends]
    )
    # Stats built without the CBPE sums (older callers) still cumulate and index
    bare = Stats(**{k: getattr(stats, k) for k in ("requests", "errors", "labelled", "correct",
                 "pred_pos", "true_pos", "actual_pos", "brier_sum", "brier_rows", "latency")})  # fmt: skip
    assert bare.cumulative().at(ends).expected_correct.size == 0


def test_no_score_column_means_no_unlabelled_sums(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "no-score.parquet"
    pq.write_table(pq.read_table(logs).drop(["y_score"]), path)
    reader = LogReader(FileSource(str(path), Path("/")), LogColumns())
    now = START + HOURS * 3600
    stats = bucketize(reader, Window(["v1"], now, START), START, WIDTH, 36, True).versions["v1"]
    assert stats.labelled.sum() > 0
    assert stats.unlabelled_scored.sum() == 0 and stats.expected_correct.sum() == 0


def test_a_prediction_that_is_not_0_or_1_on_an_unlabelled_row(logs: Path, tmp_path: Path) -> None:
    table = pq.read_table(logs)
    pred = table.column("y_pred").to_numpy(zero_copy_only=False).copy()
    unknown = table.column("y_true").is_null().to_numpy(zero_copy_only=False)
    pred[np.flatnonzero(unknown)[0]] = 2.0
    path = tmp_path / "bad.parquet"
    pq.write_table(table.set_column(4, "y_pred", pa.array(pred)), path)
    reader = LogReader(FileSource(str(path), Path("/")), LogColumns())
    now = START + HOURS * 3600
    with pytest.raises(InputError, match=r"column 'y_pred' \(logs.columns.y_pred\) must be 0 or 1"):
        bucketize(reader, Window(["v1", "v2"], now, START), START, WIDTH, 36, True)
