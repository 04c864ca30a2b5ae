"""Benchmark: ``ml-ci monitor`` on 30 days of logs (26,000,000 requests) vs pandas.

One command::

    .venv/bin/python benchmarks/bench_monitor.py
    .venv/bin/python benchmarks/bench_monitor.py --rows 2000000 --postgres

Data: the shared seeded generator (``ml_ci.logs.simulate``), one production version, 30 days at
~10 requests a second (259,200,000 at 100/s is beyond one runner's memory for the peer), one
Parquet file (cached in the temp folder between runs). ml-ci: the real CLI in a subprocess,
``ml-ci monitor --json`` with a latency and an error-rate objective over a 30-day window:
every workbook window (5 min .. 3 d) and the budget, from one streamed pass; wall time and peak
RSS from getrusage(RUSAGE_CHILDREN).

The peer: pandas, the way a notebook does it: load the whole table, resample to 5-minute
counts, and rolling sums for the eight windows of the four rules.

With ``--postgres`` the rows are also loaded (COPY, not timed) into a real PostgreSQL on
127.0.0.1 and the same monitor runs with ``logs: {sql: …}`` (the bucket aggregation pushed
into the database); its alerts must equal the Parquet ones.

Targets: <= 10 s wall, <= 1.5 GiB peak RSS on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _logs import (
    DAY,
    START,
    cached_logs,
    load_into_postgres,
    print_run,
    print_sql,
    run_ml_ci,
)

DAYS = 30
CONFIG = """\
model: {name: bench}
monitor:
  window: 30d
  objectives:
    - {metric: latency_p95_ms, max: 250}
    - {metric: error_rate, max: 0.01}
"""


def generate(rows: int) -> Path:
    from ml_ci.logs.simulate import Profile

    return cached_logs(
        "monitor",
        rows,
        duration=DAYS * DAY,
        canary=("unused", Profile()),
        production=("v1", Profile(error_rate=0.002)),
        traffic=0.0,
    )


def run_monitor(
    path: Path | None, folder: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float, dict[str, Any]]:
    arguments = ["--version", "v1", "--now", str(START + DAYS * DAY), "--json"]
    return run_ml_ci("monitor", path, folder, CONFIG, arguments, env)


def run_postgres(path: Path, folder: Path) -> tuple[float, float, float, dict[str, Any]]:
    """Load the rows into a fresh PostgreSQL (not timed), then time the SQL monitor run."""
    with load_into_postgres(path) as url:
        return run_monitor(None, folder, {"ML_CI_LOGS_URL": url})


def pandas_peer(path: Path) -> tuple[float, float]:
    """(seconds, peak GiB of this process) to compute every rule's windows with pandas."""
    import pandas as pd

    before = time.perf_counter()
    frame = pd.read_parquet(path, columns=["timestamp", "latency_ms", "error"])
    frame["slow"] = frame["latency_ms"] > 250
    counts = (
        frame.set_index("timestamp")
        .resample("5min")
        .agg({"error": "sum", "slow": "sum", "latency_ms": "size"})
    )
    for minutes in (5, 30, 60, 120, 360, 1440, 4320):  # the four rules' eight windows
        window = counts.rolling(f"{minutes}min").sum()
        _ = (window["error"] / window["latency_ms"], window["slow"] / window["latency_ms"])
    seconds = time.perf_counter() - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return seconds, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=26_000_000)
    parser.add_argument("--postgres", action="store_true", help="Also run through PostgreSQL.")
    parser.add_argument("--no-pandas", action="store_true", help="Skip the pandas peer.")
    args = parser.parse_args()
    path = generate(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu, peak, payload = run_monitor(path, Path(folder))
    alerts = {o["metric"]: o["alert"] for o in payload["objectives"]}
    print(f"rows: {args.rows:,} over {DAYS} days; alerts: {alerts}")
    print_run("ml-ci monitor", wall, cpu, peak)
    if args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            sql_wall, sql_cpu, _, sql_payload = run_postgres(path, Path(folder))
        print_sql(
            sql_wall, sql_cpu, "objectives", sql_payload["objectives"] == payload["objectives"]
        )
    if not args.no_pandas:
        seconds, pandas_peak = pandas_peer(path)
        print(
            f"pandas (load all, resample, rolling windows): {seconds:.2f} s, {pandas_peak:.2f} GiB"
        )
        speed = (
            f"{seconds / wall:.1f}x faster" if seconds >= wall else f"{wall / seconds:.1f}x slower"
        )
        print(f"ratio: ml-ci is {speed} and uses {pandas_peak / peak:.1f}x less memory than pandas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
