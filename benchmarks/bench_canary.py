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
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _logs import (
    DAY,
    START,
    cached_logs,
    load_into_postgres,
    print_run,
    print_sql,
    run_ml_ci,
)

CONFIG = "canary: {interval: 10m, max_duration: 24h, min_duration: 24h, traffic: 0.1}\n"


def generate(rows: int) -> Path:
    from ml_ci.logs.simulate import Profile

    return cached_logs(
        "canary",
        rows,
        duration=DAY,
        canary=("v2", Profile()),
        production=("v1", Profile()),
        traffic=0.1,
    )


def run_canary(
    path: Path | None, folder: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float, dict[str, Any]]:
    arguments = ["--canary", "v2", "--production", "v1", "--now", str(START + DAY + 60)]
    # the 144th look ends after START+DAY
    return run_ml_ci("canary", path, folder, CONFIG, [*arguments, "--replay", "--json"], env)


def run_postgres(path: Path, folder: Path) -> tuple[float, float, float, dict[str, Any]]:
    """Load the rows into a fresh PostgreSQL (not timed), then time the SQL replay."""
    with load_into_postgres(path) as url:
        return run_canary(None, folder, {"ML_CI_LOGS_URL": url})


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
        wall, cpu, peak, payload = run_canary(path, Path(folder))
    looks = payload.get("looks", [])
    print(f"rows: {args.rows:,}; looks replayed: {len(looks)}; verdict: {payload['verdict']}")
    print_run("ml-ci canary --replay", wall, cpu, peak)
    if args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            sql_wall, sql_cpu, _, sql_payload = run_postgres(path, Path(folder))
        print_sql(sql_wall, sql_cpu, "JSON", sql_payload == payload)
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
