"""The HTML report: one self-contained file, checked in a real headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ml_ci.report.render import render
from tests.report import chromium
from tests.report.records import demo_record, with_curves, with_governance


def test_html_is_self_contained() -> None:
    html = render(with_governance(demo_record()), "html")
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "<svg" in html and "<style>" in html
    # nothing fetched: no scripts, stylesheets, images or fonts from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert "url(" not in html and "@import" not in html
    assert 'src="' not in html


def test_html_draws_both_models_roc_and_pr_curves() -> None:
    record = with_curves(demo_record())
    html = render(record, "html")
    assert html.count('class="curve-baseline"') == 2
    assert html.count('class="curve-candidate"') == 2
    roc = next(c for c in record.compare.curves if (c.model, c.kind) == ("candidate", "roc"))  # type: ignore[union-attr]
    assert f"candidate (AUC {roc.area:.3f})" in html
    assert "curve-" not in render(record, "markdown")  # the comment keeps its size budget
    assert "curve-" not in render(demo_record(), "html")  # no curves recorded, no chart


def test_html_escapes_untrusted_text() -> None:
    record = demo_record()
    record.model = "<img src=x onerror=alert(1)>"
    html = render(record, "html")
    assert "<img" not in html and "&lt;img" in html


@pytest.mark.skipif(chromium.chromium() is None, reason="needs Debian's chromium package")
def test_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    record = with_curves(with_governance(demo_record()))
    page.write_text(render(record, "html"), encoding="utf-8")
    png = tmp_path / "shot.png"
    chromium.screenshot(page, png, tmp_path)
    width, height, _, _ = chromium.read_png(png)
    assert (width, height) == (1200, 1600)
    assert chromium.grey_variance(png) > 100  # a blank page has 0
    dom = chromium.dump_dom(page, tmp_path)
    assert "FAIL</strong>: 1 of 7 gates failed: roc_auc" in dom
    assert "<svg" in dom
    assert "ROC and precision-recall curves" in dom and "curve-candidate" in dom
