"""What the serving-log benchmarks share (``bench_canary.py``, ``bench_monitor.py``).

* :func:`cached_logs`: the rows of the shared seeded generator (:mod:`ml_ci.logs.simulate`),
  written once to one Parquet file in the temp folder and reused by later runs;
* :func:`run_ml_ci`: one ``ml-ci`` command in a subprocess, with its wall time, CPU time and
  peak RSS (getrusage(RUSAGE_CHILDREN)) and its ``--json`` payload;
* :func:`load_into_postgres`: a fresh PostgreSQL on 127.0.0.1 holding those rows;
* :func:`print_run` / :func:`print_sql`: the lines that report a run against the targets.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

START = 1_780_000_000.0
DAY = 86_400.0
#: the table that ``logs: {sql: …}`` reads in both benchmarks
SQL_SOURCE = "logs: {sql: {table: serving_logs}}\n"


def cached_logs(name: str, rows: int, **simulate: Any) -> Path:
    """``ml-ci-bench-NAME-ROWS.parquet`` in the temp folder: ``simulate_logs`` from ``START``
    with seed 0, ``rows`` requests, no outcomes and no request ids, and ``simulate`` (duration,
    versions, traffic). Written under another name first, so an interrupted run leaves no
    half file to be reused."""
    from ml_ci.logs.simulate import simulate_logs

    path = Path(tempfile.gettempdir()) / f"ml-ci-bench-{name}-{rows}.parquet"
    if not path.exists():
        partial = path.with_suffix(".partial.parquet")
        simulate_logs(
            partial,
            start=START,
            requests=rows,
            seed=0,
            outcomes=False,
            request_ids=False,
            **simulate,
        )
        partial.rename(path)
    return path


def run_ml_ci(
    command: str,
    path: Path | None,
    folder: Path,
    config: str,
    arguments: list[str],
    env: dict[str, str] | None = None,
) -> tuple[float, float, float, dict[str, Any]]:
    """``ml-ci COMMAND --config FOLDER/ml-ci.yaml --logs PATH ARGUMENTS``: (wall s, CPU s, peak
    GiB, JSON payload). ``config`` is the file's text; with ``path`` None the logs are read
    from PostgreSQL (:data:`SQL_SOURCE`, the URL in ``env``). Exit 0 or 1 (a gate that fails)
    is a result; any other exit ends the benchmark with ml-ci's message."""
    config_file = folder / "ml-ci.yaml"
    config_file.write_text((SQL_SOURCE if path is None else "") + config, encoding="utf-8")
    logs = [] if path is None else ["--logs", str(path)]
    ml_ci = str(Path(sys.executable).parent / "ml-ci")
    argv = [ml_ci, command, "--config", str(config_file), *logs, *arguments]
    before_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = time.perf_counter()
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    wall = time.perf_counter() - before
    if done.returncode not in (0, 1):
        raise SystemExit(f"ml-ci {command} failed: {done.stderr.strip()}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss / 1024**2  # KiB -> GiB (the largest child so far)
    cpu = usage.ru_utime + usage.ru_stime - before_usage.ru_utime - before_usage.ru_stime
    payload: dict[str, Any] = json.loads(done.stdout)
    return wall, cpu, peak, payload


def print_run(label: str, wall: float, cpu: float, peak: float) -> None:
    """The timed run against the targets (<= 10 s wall, <= 1.5 GiB peak RSS), and how busy the
    machine was meanwhile."""
    print(
        f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU, {peak:.2f} GiB peak RSS "
        "(targets: <= 10 s, <= 1.5 GiB)"
    )
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def print_sql(wall: float, cpu: float, what: str, same: bool) -> None:
    """The run through PostgreSQL, and whether its ``what`` equals the Parquet run's."""
    print(
        f"through PostgreSQL (aggregation in the database): {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU in ml-ci; same {what} as Parquet: {same}"
    )


@contextlib.contextmanager
def load_into_postgres(path: Path) -> Iterator[str]:
    """A fresh PostgreSQL on 127.0.0.1 holding the rows of ``path`` (COPY, in the
    :data:`SQL_SOURCE` table); yields its URL."""
    import pyarrow.parquet as pq
    from sqlalchemy import create_engine, text

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.logs.postgres import running_postgres

    with running_postgres() as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE serving_logs (timestamp timestamptz, model_version text, "
                    "latency_ms float8, error int2)"
                )
            )
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            parquet = pq.ParquetFile(path)
            with cursor.copy(  # type: ignore[attr-defined]
                "COPY serving_logs FROM STDIN (FORMAT csv)"
            ) as copy:
                for batch in parquet.iter_batches(
                    batch_size=500_000,
                    columns=["timestamp", "model_version", "latency_ms", "error"],
                ):
                    frame = batch.to_pandas()
                    frame["model_version"] = frame["model_version"].astype(str)
                    copy.write(frame.to_csv(index=False, header=False))
            raw.commit()
            cursor.execute("ANALYZE serving_logs")
            raw.commit()
        finally:
            raw.close()
            engine.dispose()
        yield url
