"""Regenerate docs/demo-report.md and docs/report-screenshot.png from an evaluation record.

Usage: python scripts/gen_docs.py [--record ml-ci-record.json]

By default it runs ``ml-ci demo`` (offline, in a temporary folder) and uses the demo's record.
The screenshot is the HTML report rendered by headless Chromium (Debian package
``chromium``); without it only the markdown is written (exit 1).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ml_ci.record import EvaluationRecord, load_record
from ml_ci.report.render import render

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ROOT / "docs" / "demo-report.md"
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"


def screenshot(html: Path, png: Path) -> bool:
    """Render ``html`` with headless Chromium into ``png``; False when Chromium is missing."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                "--window-size=1200,1600",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return True


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
        if not screenshot(page, SCREENSHOT):
            print("chromium not found: apt-get install chromium", file=sys.stderr)
            return 1
    print(f"wrote {SCREENSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
