"""Regenerate docs/demo-report.md and docs/report-screenshot.png from an evaluation record.

Usage: python scripts/gen_docs.py [--record ml-ci-record.json | --sample]

By default it runs ``ml-ci demo`` (offline, in a temporary folder) and uses the demo's record;
``--sample`` uses a built-in demo-like record (a classifier whose ROC AUC got worse).
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

from ml_ci.record import (
    ColumnDrift,
    CompareSection,
    DriftSection,
    EvaluationRecord,
    GateResult,
    Lineage,
    LineageEntry,
    MetricResult,
    OutputCheck,
    ParamChange,
    QualityFinding,
    RepoInfo,
    ReproSection,
    load_record,
)
from ml_ci.report.render import render

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ROOT / "docs" / "demo-report.md"
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"


def _metric(
    name: str, base: float, cand: float, half: float, slice_: str | None = None
) -> MetricResult:
    delta = round(cand - base, 6)
    return MetricResult(
        name=name,
        baseline=base,
        candidate=cand,
        delta=delta,
        ci_low=round(delta - half, 6),
        ci_high=round(delta + half, 6),
        p_value=0.03,
        method="paired bootstrap",
        n=143 if slice_ is None else 60,
        slice=slice_,
    )


def sample_record() -> EvaluationRecord:
    """A demo-like record: breast-cancer classifier, weaker regularisation, one gate failing."""
    return EvaluationRecord(
        model="breast-cancer",
        created_at="2026-01-05T10:00:00Z",  # fixed: the screenshot must not change by itself
        updated_at="2026-01-05T10:00:00Z",
        repo=RepoInfo(
            name="acme/models",
            head_sha="3f2c1e9a" + "0" * 32,
            base_sha="9b8a7c6d" + "0" * 32,
            pull_request=12,
            run_url="https://github.com/acme/models/actions/runs/1001",
        ),
        lineage=Lineage(
            deps=[
                LineageEntry(
                    path="data/breast_cancer.csv",
                    hash="a1b2c3d4e5f60718",
                    stage="train",
                    kind="dep",
                )
            ],
            outs=[
                LineageEntry(
                    path="models/model.pkl", hash="0f1e2d3c4b5a6978", stage="train", kind="out"
                )
            ],
            params_diff=[ParamChange(file="params.yaml", key="train.C", base=1.0, head=0.05)],
        ),
        repro=ReproSection(
            verdict="verified",
            runs=2,
            stages=["prepare", "train", "evaluate"],
            outputs=[
                OutputCheck(
                    path="models/model.pkl",
                    stage="train",
                    expected="0f1e2d3c",
                    actual="0f1e2d3c",
                    match=True,
                )
            ],
            duration_s=14.2,
        ),
        compare=CompareSection(
            metrics=[
                _metric("roc_auc", 0.9952, 0.9811, 0.006),
                _metric("accuracy", 0.9650, 0.9580, 0.021),
                _metric("roc_auc", 0.99, 0.962, 0.02, "size=large"),
                _metric("latency_p95_ms", 4.1, 4.3, 0.2),
            ],
            gates=[
                GateResult(
                    metric="roc_auc",
                    rule="non_inferior",
                    margin=0.005,
                    verdict="fail",
                    p_value=0.97,
                    adjusted_p_value=0.97,
                    reason="upper bound of the 95% interval (-0.0081) is below -0.005",
                ),
                GateResult(
                    metric="accuracy",
                    rule="non_inferior",
                    margin=0.02,
                    verdict="inconclusive",
                    p_value=0.21,
                    adjusted_p_value=0.42,
                    reason="the interval [-0.028, +0.014] spans the margin -0.02",
                ),
                GateResult(
                    metric="roc_auc",
                    rule="non_inferior",
                    margin=0.005,
                    slice="size=large",
                    verdict="inconclusive",
                    p_value=0.3,
                    adjusted_p_value=0.6,
                ),
                GateResult(
                    metric="latency_p95_ms",
                    rule="absolute",
                    margin=10.0,
                    max=10.0,
                    verdict="pass",
                    reason="4.3 ms <= 10 ms",
                ),
            ],
            verdict="fail",
            alpha=0.05,
        ),
        drift=DriftSection(
            columns=[
                ColumnDrift(
                    column="mean radius", method="psi", value=0.31, threshold=0.2, drifted=True
                ),
                ColumnDrift(
                    column="mean texture", method="psi", value=0.04, threshold=0.2, drifted=False
                ),
                ColumnDrift(
                    column="mean smoothness",
                    method="ks",
                    value=0.06,
                    threshold=0.1,
                    drifted=False,
                    p_value=0.41,
                ),
            ],
            quality=[
                QualityFinding(check="missing_values", verdict="pass"),
                QualityFinding(
                    check="range",
                    column="mean area",
                    rows=3,
                    verdict="warn",
                    detail="3 values above the training maximum",
                ),
            ],
            share_drifted=1 / 3,
            verdict="retrain",
        ),
        links={"HTML report": "https://github.com/acme/models/actions/runs/1001#artifacts"},
    )


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
    parser.add_argument("--sample", action="store_true", help="Use the built-in sample record.")
    args = parser.parse_args(argv)
    if args.sample:
        record = sample_record()
    elif args.record:
        record = load_record(args.record)
    else:
        record = demo_record()
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
