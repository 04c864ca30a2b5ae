"""Regenerate docs/demo-report.md and docs/report-screenshot.png from an evaluation record.

Usage: python scripts/gen_docs.py [--record ml-ci-record.json]

By default it runs ``ml-ci demo`` (offline, in a temporary folder) and uses the demo's record.
The screenshot is the HTML report rendered by headless Chromium (Debian package
``chromium``); without it only the markdown is written (exit 1).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from ml_ci.record import EvaluationRecord, load_record
from ml_ci.report.render import render

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # one Chromium driver: the HTML tests' (tests/report/chromium.py)
from tests.report import chromium  # noqa: E402

MARKDOWN = ROOT / "docs" / "demo-report.md"
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"


def demo_record() -> EvaluationRecord:
    """Run the real demo in a temporary folder and load the record it ends with."""
    import json

    with tempfile.TemporaryDirectory(prefix="ml-ci-docs-") as folder:
        done = subprocess.run(
            [sys.executable, "-m", "ml_ci", "demo", "--dir", f"{folder}/demo", "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return load_record(Path(json.loads(done.stdout)["record"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="Evaluation record (default: the demo's).")
    args = parser.parse_args(argv)
    record = load_record(args.record) if args.record else demo_record()
    MARKDOWN.write_text(render(record, "markdown"), encoding="utf-8")
    print(f"wrote {MARKDOWN.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(render(record, "html"), encoding="utf-8")
        if chromium.chromium() is None:
            print("chromium not found: apt-get install chromium", file=sys.stderr)
            return 1
        chromium.screenshot(page, SCREENSHOT, Path(folder))
    print(f"wrote {SCREENSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
