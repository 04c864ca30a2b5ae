"""Start-up time of ``ml-ci --help`` against its peer ``dvc --help``.

Run:  .venv/bin/python benchmarks/bench_cli_startup.py [--runs N]

Prints the median wall time of N runs of each (fresh interpreter each time) and the ratio,
and which heavy modules (pandas, sklearn, dvc, numpy, scipy) importing the CLI for --help
pulls in (there should be none). Asserts nothing: speed is reported, not tested.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("pandas", "sklearn", "dvc", "numpy", "scipy")


def median_wall_time(command: list[str], runs: int) -> float:
    """Median seconds of ``runs`` runs (one unmeasured warm-up run fills the file cache)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_modules_after_help() -> list[str]:
    probe = (
        "import sys\n"
        "from ml_ci.cli import main\n"
        "main(['--help'])\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return [name for name in last.split(",") if name in HEAVY]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    ml_ci = median_wall_time([sys.executable, "-m", "ml_ci", "--help"], args.runs)
    dvc = median_wall_time([sys.executable, "-m", "dvc", "--help"], args.runs)
    heavy = heavy_modules_after_help()
    print(f"ml-ci --help: median {ml_ci * 1000:.0f} ms over {args.runs} runs")
    print(f"dvc --help:   median {dvc * 1000:.0f} ms over {args.runs} runs")
    print(f"ratio ml-ci / dvc: {ml_ci / dvc:.2f}")
    print(f"heavy modules imported for --help: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
