"""The SQL source against a real PostgreSQL server: the same buckets and the same verdict as
the Parquet file holding the same rows, with the aggregation done by the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_ci.cli import main
from ml_ci.config.logs import LogColumns, SqlLogsConfig
from ml_ci.logs import FileLogs, Window
from ml_ci.logs.files import FileSource, LogReader
from ml_ci.logs.simulate import Profile, simulate_logs
from ml_ci.logs.sql import SqlLogs
from tests.logs.postgres import running_postgres

START = 1_780_000_000.0
HOURS = 4


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from sqlalchemy import create_engine

    folder = tmp_path_factory.mktemp("sql")
    path = simulate_logs(
        folder / "logs.parquet",
        start=START,
        duration=HOURS * 3600,
        requests=40_000,
        canary=("v2", Profile(latency_median_ms=115.0)),
        production=("v1", Profile()),
        seed=9,
    )
    with running_postgres() as url:
        frame = pd.read_parquet(path)
        frame["model_version"] = frame["model_version"].astype(str)
        engine = create_engine(url)
        frame.to_sql("serving_logs", engine, index=False, chunksize=10_000)
        engine.dispose()
        yield url, path


def test_postgres_buckets_equal_the_file_buckets(
    database: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, path = database
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    sql = SqlLogs(SqlLogsConfig(table="serving_logs"), LogColumns())
    files = FileLogs(LogReader(FileSource(str(path), Path("/")), LogColumns()))
    window = Window(["v2", "v1"], START + HOURS * 3600)
    origin = files.first_request("v2", window)
    assert sql.first_request("v2", window) == pytest.approx(origin, abs=1e-6)
    a = files.bucketize(window, origin, 600, 23, outcomes=True)
    b = sql.bucketize(window, origin, 600, 23, outcomes=True)
    for version in ("v1", "v2"):
        x, y = a.versions[version], b.versions[version]
        for name in ("requests", "errors", "labelled", "correct", "pred_pos", "true_pos"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
        np.testing.assert_array_equal(x.latency, y.latency)
        np.testing.assert_allclose(x.brier_sum, y.brier_sum, rtol=1e-9)
        np.testing.assert_array_equal(x.scores, y.scores)
        # CBPE: the rows without an outcome as of now (here: after the 23rd bucket), by request
        assert x.unlabelled_scored.sum() > 0
        np.testing.assert_array_equal(x.unlabelled_scored, y.unlabelled_scored)
        np.testing.assert_allclose(x.expected_correct, y.expected_correct, rtol=1e-9)


@pytest.mark.parametrize("before_end", [0.0, 300.0])
def test_postgres_cbpe_sums_equal_the_files_as_of_now(
    database: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, before_end: float
) -> None:
    """The monitor's buckets (ending at now), and now inside the last bucket (a replay: the
    outcomes between now and the bucket's end are not known yet)."""
    url, path = database
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    sql = SqlLogs(SqlLogsConfig(table="serving_logs"), LogColumns())
    files = FileLogs(LogReader(FileSource(str(path), Path("/")), LogColumns()))
    end = START + HOURS * 3600
    origin, now = end - 18 * 600, end - before_end
    window = Window(["v2", "v1"], now, origin, clock=end)
    a = files.bucketize(window, origin, 600, 18, outcomes=True)
    b = sql.bucketize(window, origin, 600, 18, outcomes=True)
    for version in ("v1", "v2"):
        x, y = a.versions[version], b.versions[version]
        assert x.unlabelled_scored[-1] > 0
        for name in ("requests", "labelled", "correct", "unlabelled_scored"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
        np.testing.assert_allclose(x.expected_correct, y.expected_correct, rtol=1e-9)


def test_same_monitor_estimate_from_postgres_and_parquet(
    database: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, path = database
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    config = tmp_path / "ml-ci.yaml"
    config.write_text(
        "model: {name: m}\nlogs: {sql: {table: serving_logs}}\n"
        "monitor: {window: 3h, recent: 1h, objectives: [{metric: accuracy, min: 0.5}]}\n"
    )
    import subprocess
    import sys

    def run(*extra: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "ml_ci", "monitor", "--config", str(config), "--version", "v1",
             "--now", str(int(START + HOURS * 3600)), "--json", *extra],
            capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result

    from_sql, from_files = run(), run("--logs", str(path))
    assert from_sql == from_files
    accuracy = from_sql["objectives"][0]  # type: ignore[index]
    assert accuracy["estimate"] is not None and accuracy["estimated_rows"] > 0


def _canary(capsys: pytest.CaptureFixture[str], config: Path, *extra: str) -> tuple[int, str, str]:
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
            str(START + HOURS * 3600),
            "--replay",
            "--json",
            *extra,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_same_verdict_from_postgres_and_parquet(
    database: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, path = database
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    gates = "  gates: [{metric: latency_p95_ms, margin: 0.05, relative: true}, {metric: accuracy, margin: 0.05}]\n"
    config = tmp_path / "ml-ci.yaml"
    config.write_text("logs: {sql: {table: serving_logs}}\ncanary:\n  traffic: 0.1\n" + gates)
    code_sql, out_sql, _ = _canary(capsys, config)
    code_file, out_file, _ = _canary(capsys, config, "--logs", str(path))
    assert code_sql == code_file == 1  # +15 % median latency: rolled back
    assert json.loads(out_sql) == json.loads(out_file)


def test_database_errors_are_one_line_without_the_url(
    database: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = database
    config = tmp_path / "ml-ci.yaml"
    config.write_text("logs: {sql: {table: serving_logs}}\n")
    secret_url = url.replace("postgres@", "postgres:s3cret@").replace(
        url.rsplit(":", 1)[1].split("/")[0], "1"
    )
    monkeypatch.setenv("ML_CI_LOGS_URL", secret_url)  # port 1: unreachable
    code, out, err = _canary(capsys, config)
    assert code == 2 and "cannot query the database" in err and "s3cret" not in err + out
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    config.write_text("logs: {sql: {table: serving_logs}, columns: {latency_ms: took_ms}}\n")
    code, _, err = _canary(capsys, config)
    assert code == 2 and "column 'took_ms' (logs.columns.latency_ms) is missing" in err
    monkeypatch.delenv("ML_CI_LOGS_URL")
    code, _, err = _canary(capsys, config)
    assert code == 2 and "ML_CI_LOGS_URL is not set" in err


@pytest.fixture(scope="module")
def partial(
    database: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """The same logs with ``y_score`` null on a seeded 10 % of the rows (the model did not
    score those requests), as a Parquet file and as table ``partial_scores``."""
    from sqlalchemy import create_engine, text

    url, path = database
    frame = pd.read_parquet(path)
    frame["model_version"] = frame["model_version"].astype(str)
    missing = np.random.default_rng(14).random(len(frame)) < 0.1
    frame["y_score"] = frame["y_score"].astype("float64").mask(missing)
    out = tmp_path_factory.mktemp("partial") / "partial.parquet"
    frame.to_parquet(out, index=False)
    engine = create_engine(url)
    frame.to_sql("partial_scores", engine, index=False, chunksize=10_000)
    with engine.begin() as connection:  # the same rows with NaN where the score is NULL
        connection.execute(text("CREATE TABLE nan_scores AS SELECT * FROM partial_scores"))
        connection.execute(text("UPDATE nan_scores SET y_score = 'NaN' WHERE y_score IS NULL"))
    engine.dispose()
    return url, out


@pytest.mark.parametrize("table", ["partial_scores", "nan_scores"])
def test_partial_scores_give_the_same_statistics_from_postgres_and_parquet(
    partial: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """A labelled row without a score counts for accuracy but not for Brier, in both sources;
    ``brier_rows`` is the labelled rows WITH a score, so Brier's mean is unbiased. A float NaN
    in the database (``nan_scores``) is no score, like a NaN in a file."""
    from ml_ci.logs.buckets import SCALARS

    url, path = partial
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    sql = SqlLogs(SqlLogsConfig(table=table), LogColumns())
    files = FileLogs(LogReader(FileSource(str(path), Path("/")), LogColumns()))
    window = Window(["v2", "v1"], START + HOURS * 3600)
    origin = files.first_request("v2", window)
    a = files.bucketize(window, origin, 600, 23, outcomes=True)
    b = sql.bucketize(window, origin, 600, 23, outcomes=True)
    frame = pd.read_parquet(path)
    for version in ("v1", "v2"):
        x, y = a.versions[version], b.versions[version]
        for name in SCALARS:
            np.testing.assert_allclose(getattr(x, name), getattr(y, name), rtol=1e-9, err_msg=name)
        np.testing.assert_array_equal(x.scores, y.scores)
        assert 0 < x.brier_rows.sum() < x.labelled.sum()
        assert x.unlabelled_scored.sum() > 0
        # the brier rows are the labelled rows of the buckets that carry a score
        rows = frame[frame.model_version == version]
        seconds = rows["timestamp"].astype("int64") / 1e6
        arrived = np.maximum(rows["label_time"].astype("int64") / 1e6, seconds)
        labelled = rows.y_true.notna() & (seconds >= origin) & (arrived < origin + 23 * 600)
        labelled &= arrived <= window.now
        assert x.labelled.sum() == labelled.sum()
        assert x.brier_rows.sum() == (labelled & rows.y_score.notna()).sum()


def test_partial_scores_do_not_fail_the_monitor(
    partial: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A null score on a labelled row is a valid row: ``ml-ci monitor`` answers (it used to
    exit 2 on the file source, hiding every other objective), the same from both sources."""
    import subprocess
    import sys

    url, path = partial
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    config = tmp_path / "ml-ci.yaml"
    config.write_text(
        "model: {name: m}\nlogs: {sql: {table: partial_scores}}\n"
        "monitor: {window: 3h, recent: 1h, objectives: [{metric: accuracy, min: 0.5}]}\n"
    )

    def run(*extra: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "ml_ci", "monitor", "--config", str(config), "--version", "v1",
             "--now", str(int(START + HOURS * 3600)), "--json", *extra],
            capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result

    from_sql, from_files = run(), run("--logs", str(path))
    assert from_sql == from_files
    accuracy = from_sql["objectives"][0]  # type: ignore[index]
    assert accuracy["value"] is not None and accuracy["estimated_rows"] > 0


def test_a_labelled_score_outside_0_1_is_one_line_exit_2(
    partial: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy import create_engine

    url, path = partial
    frame = pd.read_parquet(path)
    labelled = frame.index[(frame.model_version == "v2") & frame.y_true.notna()]
    frame.loc[labelled[100], "y_score"] = 1.5
    bad = tmp_path / "bad.parquet"
    frame.to_parquet(bad, index=False)
    engine = create_engine(url)
    frame.to_sql("bad_scores", engine, index=False, chunksize=10_000)
    engine.dispose()
    monkeypatch.setenv("ML_CI_LOGS_URL", url)
    config = tmp_path / "ml-ci.yaml"
    config.write_text(
        "logs: {sql: {table: bad_scores}}\ncanary:\n  traffic: 0.1\n"
        "  gates: [{metric: brier, margin: 0.05}]\n"
    )
    for extra in ((), ("--logs", str(bad))):
        code, out, err = _canary(capsys, config, *extra)
        assert code == 2 and out == "", err
        lines = [line for line in err.splitlines() if not line.startswith("...")]  # progress
        assert len(lines) == 1 and "y_score" in lines[0] and "[0, 1]" in lines[0], err
