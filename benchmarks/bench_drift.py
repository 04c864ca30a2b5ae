"""Benchmark: ``ml-ci drift`` vs Evidently's DataDriftPreset on 1,000,000 rows x 50 columns.

One command::

    .venv/bin/python benchmarks/bench_drift.py            # both tools
    .venv/bin/python benchmarks/bench_drift.py --skip-evidently

Data: 35 numeric and 15 categorical columns (3 of them binary), seeded, written once to
benchmarks/.work/ as Parquet; planted shifts in 3 numeric and 2 categorical columns.
ml-ci runs as the real CLI in a subprocess (wall and CPU time, peak RSS of that process from
wait4), three times (the best wall time counts: the machine may be shared).
Evidently 0.7 needs pandas < 3, so it runs in its own venv (benchmarks/.work/evidently-venv,
created on first use from benchmarks/requirements-evidently.txt) on the same Parquet files.
Targets: <= 5 s wall, <= 1.5 GiB peak RSS, >= 50x faster than Evidently.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ml_ci.cpu import NUMPY_SWITCH, has_slow_avx512_sort

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
ROOT = HERE.parent
ML_CI = Path(sys.executable).with_name("ml-ci")
EVIDENTLY_VENV = WORK / "evidently-venv"
REQUIREMENTS = HERE / "requirements-evidently.txt"

ROWS = 1_000_000
NUMERIC = 35
CATEGORICAL = 15
PLANTED = {"num_03", "num_17", "num_29", "cat_02", "cat_09"}

TARGET_SECONDS = 5.0
TARGET_RSS_GIB = 1.5
TARGET_SPEEDUP = 50.0

EVIDENTLY_SCRIPT = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
start = time.perf_counter()
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
loaded = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current, reference)
result = snapshot.dict()
done = time.perf_counter()
print(json.dumps({"read_s": loaded - start, "report_s": done - loaded}))
"""


def make_data(rows: int, seed: int = 7) -> tuple[Path, Path]:
    """Reference and current tables with planted shifts; cached by size and seed."""
    import numpy as np
    import pandas as pd

    reference_path = WORK / f"drift-reference-{rows}.parquet"
    current_path = WORK / f"drift-current-{rows}.parquet"
    if reference_path.exists() and current_path.exists():
        return reference_path, current_path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tables = {}
    for side in ("reference", "current"):
        columns: dict[str, object] = {}
        for i in range(NUMERIC):
            name = f"num_{i:02d}"
            shift = 0.5 if side == "current" and name in PLANTED else 0.0
            if i % 5 == 0:
                columns[name] = rng.lognormal(shift, 1.0, rows)
            elif i % 5 == 1:
                columns[name] = rng.integers(0, 1000, rows) + int(shift * 300)
            else:
                columns[name] = rng.normal(10 * i + shift, 1.0 + i / 10, rows)
        for i in range(CATEGORICAL):
            name = f"cat_{i:02d}"
            levels = 2 if i < 3 else 5 + 3 * i
            weights = np.linspace(1.0, 2.0, levels)
            if side == "current" and name in PLANTED:
                weights = weights[::-1] ** 2
            labels = np.array([f"{name}_v{j}" for j in range(levels)])
            columns[name] = labels[rng.choice(levels, rows, p=weights / weights.sum())]
        tables[side] = pd.DataFrame(columns)
    tables["reference"].to_parquet(reference_path, index=False)
    tables["current"].to_parquet(current_path, index=False)
    return reference_path, current_path


def run_measured(
    argv: list[str], name: str, env: dict[str, str] | None = None
) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in GiB of that child alone
    (os.wait4) and its stdout."""
    out_path, err_path = WORK / f"{name}.out", WORK / f"{name}.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n{err_path.read_text()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024**2, out_path.read_text()


def ensure_evidently() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print("creating the Evidently venv (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True
        )
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="ml-ci runs (the best counts)")
    args = parser.parse_args()

    reference, current = make_data(args.rows)
    argv = [str(ML_CI), "drift", "-r", str(reference), "-c", str(current)]
    argv += ["--json", "--fail-on", "never"]
    # a config-free run: the defaults are what is measured
    os.chdir(WORK)
    load = os.getloadavg()[0]
    # best of a few runs: the machine may be shared; each run is a fresh process
    runs = [run_measured(argv, "ml-ci") for _ in range(args.repeat)]
    wall, cpu, _, stdout = min(runs)
    rss = max(run[2] for run in runs)
    section = json.loads(stdout)
    flagged = {c["column"] for c in section["columns"] if c["drifted"]}
    print(
        f"ml-ci drift: {args.rows:,} rows x {NUMERIC + CATEGORICAL} columns "
        f"({os.cpu_count()} cores, load average {load:.1f} before the run)"
    )
    print(
        f"  wall {wall:.2f} s (best of {len(runs)}: {', '.join(f'{r[0]:.1f}' for r in runs)}; "
        f"target <= {TARGET_SECONDS} s), CPU {cpu:.2f} s, peak RSS {rss:.2f} GiB "
        f"(target <= {TARGET_RSS_GIB} GiB)"
    )
    print(f"  flagged {sorted(flagged)}; planted {sorted(PLANTED)}; verdict {section['verdict']}")
    if has_slow_avx512_sort(Path("/proc/cpuinfo").read_text(errors="replace")):
        # ml-ci steers numpy to its AVX2 sort here (ml_ci.cpu); show what that is worth
        plain = {**os.environ, NUMPY_SWITCH: ""}
        avx512_wall, avx512_cpu, _, _ = run_measured(argv, "ml-ci-avx512", env=plain)
        print(
            f"  Zen 4 CPU: numpy's AVX-512 sort is switched off; with it on, one run takes "
            f"{avx512_wall:.2f} s wall, {avx512_cpu:.2f} s CPU"
        )
    ok = wall <= TARGET_SECONDS and rss <= TARGET_RSS_GIB and flagged == PLANTED
    if not args.skip_evidently:
        python = ensure_evidently()
        script = WORK / "evidently_run.py"
        script.write_text(EVIDENTLY_SCRIPT)
        ev_wall, ev_cpu, ev_rss, ev_out = run_measured(
            [str(python), str(script), str(reference), str(current)], "evidently"
        )
        inner = json.loads(ev_out.strip().splitlines()[-1])
        print(
            f"Evidently DataDriftPreset: wall {ev_wall:.1f} s (read {inner['read_s']:.1f} s, "
            f"report {inner['report_s']:.1f} s), CPU {ev_cpu:.1f} s, peak RSS {ev_rss:.2f} GiB"
        )
        speedup = ev_wall / wall
        print(
            f"  speed-up {speedup:.0f}x wall, {ev_cpu / cpu:.0f}x CPU "
            f"(target >= {TARGET_SPEEDUP:.0f}x), "
            f"memory {ev_rss / rss:.1f}x less"
        )
        ok = ok and speedup >= TARGET_SPEEDUP
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
