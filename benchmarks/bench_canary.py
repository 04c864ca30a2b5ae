"""Benchmark: ``ml-ci canary --replay`` on 10,000,000 logged requests vs per-look recomputation.

One command::

    .venv/bin/python benchmarks/bench_canary.py
    .venv/bin/python benchmarks/bench_canary.py --rows 1000000

Data: the shared seeded generator (``ml_ci.logs.simulate``): two versions, 24 hours, 10 % canary
traffic, one Parquet file (cached in the temp folder between runs). ml-ci: the real CLI in a
subprocess, ``--replay --json`` over the 144 ten-minute looks with the default gates (error rate,
p95 latency) and the sample-ratio check; wall time and peak RSS from getrusage(RUSAGE_CHILDREN).

The peers' way (Kayenta, Argo Rollouts, Flagger): at every look, recompute from the raw rows up
to that look a two-proportion z-test of the error rate and scipy.stats.mannwhitneyu of latency.
Rows are loaded once (not counted); each look's recomputation is timed on every 12th look and
the total over 144 looks is extrapolated from those 12 (printed as an estimate).

With ``--postgres`` the same rows are also loaded (COPY, not timed) into a real PostgreSQL
server started on 127.0.0.1 (Debian's package, as in the tests) and the same replay runs with
``logs: {sql: …}``: the aggregation is pushed into the database (GROUP BY version, bucket,
``width_bucket`` latency bin); its verdict must equal the Parquet one.

Targets: <= 10 s wall, <= 1.5 GiB peak RSS on a 2-core machine.
"""

from __future__ import annotations

import argparse
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

import numpy as np

START = 1_780_000_000.0
DAY = 86_400.0


def generate(rows: int) -> Path:
    from ml_ci.logs.simulate import Profile, simulate_logs

    path = Path(tempfile.gettempdir()) / f"ml-ci-bench-canary-{rows}.parquet"
    if not path.exists():
        partial = path.with_suffix(".partial.parquet")
        simulate_logs(
            partial,
            start=START,
            duration=DAY,
            requests=rows,
            canary=("v2", Profile()),
            production=("v1", Profile()),
            traffic=0.1,
            seed=0,
            outcomes=False,
            request_ids=False,
        )
        partial.rename(path)
    return path


def run_ml_ci(
    path: Path | None, folder: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float, dict[str, object]]:
    config = folder / "ml-ci.yaml"
    source = "logs: {sql: {table: serving_logs}}\n" if path is None else ""
    config.write_text(
        source + "canary: {interval: 10m, max_duration: 24h, min_duration: 24h, traffic: 0.1}\n",
        encoding="utf-8",
    )
    logs = [] if path is None else ["--logs", str(path)]
    command = [
        str(Path(sys.executable).parent / "ml-ci"),
        "canary",
        "--config",
        str(config),
        *logs,
        "--canary",
        "v2",
        "--production",
        "v1",
        "--now",
        str(START + DAY + 60),
        "--replay",
        "--json",  # the 144th look ends after START+DAY
    ]
    before_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    wall = time.perf_counter() - before
    if done.returncode not in (0, 1):
        raise SystemExit(f"ml-ci canary failed: {done.stderr.strip()}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss / 1024**2  # KiB -> GiB (the largest child so far)
    cpu = usage.ru_utime + usage.ru_stime - before_usage.ru_utime - before_usage.ru_stime
    return wall, cpu, peak, json.loads(done.stdout)


@contextlib.contextmanager
def load_into_postgres(path: Path) -> Iterator[str]:
    """A fresh PostgreSQL on 127.0.0.1 holding the rows of ``path`` (COPY); yields its URL."""
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


def run_postgres(path: Path, folder: Path) -> tuple[float, float, float, dict[str, object]]:
    """Load the rows into a fresh PostgreSQL (not timed), then time the SQL replay."""
    with load_into_postgres(path) as url:
        return run_ml_ci(None, folder, {"ML_CI_LOGS_URL": url})


def per_look_scipy(path: Path, looks: int = 144, every: int = 12) -> float:
    import pyarrow.parquet as pq
    from scipy.stats import mannwhitneyu, norm

    table = pq.read_table(path, columns=["timestamp", "model_version", "latency_ms", "error"])
    seconds = table.column("timestamp").cast("int64").to_numpy() / 1e6
    canary = table.column("model_version").cast("string").to_numpy(zero_copy_only=False) == "v2"
    latency = table.column("latency_ms").to_numpy()
    error = table.column("error").to_numpy()
    origin = seconds[canary].min()
    spent = 0.0
    timed = list(range(every, looks + 1, every))
    for k in timed:
        before = time.perf_counter()
        upto = (seconds >= origin) & (seconds < origin + k * 600)
        c, p = upto & canary, upto & ~canary
        n_c, n_p = c.sum(), p.sum()
        e_c, e_p = error[c].sum(), error[p].sum()
        pooled = (e_c + e_p) / (n_c + n_p)
        z = (e_c / n_c - e_p / n_p) / np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_p))
        norm.sf(z)
        mannwhitneyu(latency[c], latency[p], alternative="greater")
        spent += time.perf_counter() - before
    return spent * looks / len(timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--postgres", action="store_true", help="Also replay through PostgreSQL.")
    parser.add_argument("--no-scipy", action="store_true", help="Skip the per-look recomputation.")
    args = parser.parse_args()
    path = generate(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu, peak, payload = run_ml_ci(path, Path(folder))
    looks = payload.get("looks", [])
    print(f"rows: {args.rows:,}; looks replayed: {len(looks)}; verdict: {payload['verdict']}")
    print(
        f"ml-ci canary --replay: {wall:.2f} s wall, {cpu:.2f} s CPU, {peak:.2f} GiB peak RSS "
        "(targets: <= 10 s, <= 1.5 GiB)"
    )
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            sql_wall, sql_cpu, _, sql_payload = run_postgres(path, Path(folder))
        same = sql_payload == payload
        print(
            f"through PostgreSQL (aggregation in the database): {sql_wall:.2f} s wall, "
            f"{sql_cpu:.2f} s CPU in ml-ci; same JSON as Parquet: {same}"
        )
    if args.no_scipy:
        return 0
    scipy_seconds = per_look_scipy(path)
    print(
        f"per-look recomputation with scipy (z-test + Mann-Whitney), 144 looks: "
        f"{scipy_seconds:.1f} s (estimated from every 12th look)"
    )
    print(f"ratio: ml-ci is {scipy_seconds / wall:.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
