"""What each number is, and every regression shown (issue 12, item 5).

Markdown is parsed with markdown-it-py (GFM tables), HTML with html5lib: the tests read
table headers, cells and paragraphs, not substrings of the source.
"""

from __future__ import annotations

import math
import re
from typing import Any

import html5lib
from markdown_it import MarkdownIt

from ml_ci.record import EvaluationRecord, GateResult
from ml_ci.report.charts import nice_ticks, svg_intervals
from ml_ci.report.render import render
from ml_ci.report.view import build_view, overall_verdict
from tests.report.records import demo_record, metric


def tree(record: EvaluationRecord, fmt: str = "markdown") -> Any:
    text = render(record, fmt)  # type: ignore[arg-type]
    html = text if fmt == "html" else MarkdownIt("gfm-like").render(text)
    return html5lib.parse(html, namespaceHTMLElements=False)


def text_of(node: Any) -> str:
    return " ".join("".join(node.itertext()).split())


def tables(doc: Any) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first)."""
    return [[[text_of(c) for c in tr if c.tag in ("th", "td")] for tr in t.iter("tr")] for t in doc.iter("table")]  # fmt: skip


def section(doc: Any, heading: str) -> list[Any]:
    """The elements after ``heading`` up to the next heading of the same level or above."""
    body = list(doc.find("body"))
    start = next(i for i, e in enumerate(body) if e.tag in ("h2", "h3") and text_of(e) == heading)
    out = []
    for element in body[start + 1 :]:
        if element.tag in ("h2", "h3"):
            break
        out.append(element)
    return out


def paragraphs(doc: Any) -> list[str]:
    return [text_of(p) for p in doc.iter("p")]


def with_ungated(worse: bool | None) -> EvaluationRecord:
    record = demo_record(verdict="pass")
    assert record.compare is not None
    log_loss = metric("log_loss", 0.223, 0.306, 0.027)
    log_loss.p_value = 1e-7
    if worse is not None:  # a record from a compare stage that knows the fields
        log_loss.gated, log_loss.worse, log_loss.adjusted_p_value = False, worse, 2e-7
        for m in record.compare.metrics:
            m.gated = True
    record.compare.metrics.append(log_loss)
    return record


def test_both_p_values_are_named_and_explained() -> None:
    record = demo_record()
    for fmt in ("markdown", "html", "summary"):
        doc = tree(record, fmt)
        header = tables(doc)[0][0]
        assert "p (difference)" in header and "gate p" in header, (fmt, header)
        rows = {r[1]: dict(zip(header, r, strict=True)) for r in tables(doc)[0][1:]}
        # accuracy: the two-sided p of no difference 0.2, the gate's one-sided p 0.001
        assert (rows["accuracy"]["p (difference)"], rows["accuracy"]["gate p"]) == (
            "0.200",
            "0.001",
        )
        legend = [p for p in paragraphs(doc) if p.startswith("p (difference):")]
        assert len(legend) == 1 and "Gate p: one-sided" in legend[0], fmt


def test_every_computed_metric_is_shown_and_a_worse_one_warned() -> None:
    record = with_ungated(worse=True)
    for fmt in ("markdown", "html"):
        doc = tree(record, fmt)
        parts = section(doc, "Other metrics (not gated)")
        warning = [text_of(p) for p in parts if p.tag == "p"]
        assert len(warning) == 1 and warning[0].startswith("⚠️ log_loss is significantly worse")
        assert "0.2230 → 0.3060" in warning[0] and "warning only" in warning[0]
        table = next(t for t in parts if t.tag == "table")
        cells = [text_of(td) for td in table.iter("td")]
        assert "log_loss" in cells and "< 0.001" in cells
    # a warning only: the verdict does not change
    assert overall_verdict(record).label == "pass"


def test_old_records_show_ungated_metrics_without_claiming_a_regression() -> None:
    view = build_view(with_ungated(worse=None))
    assert [r.name for r in view.ungated] == ["log_loss"] and view.worse == []
    doc = tree(with_ungated(worse=None))
    parts = section(doc, "Other metrics (not gated)")
    assert not [p for p in parts if p.tag == "p"] and [t for t in parts if t.tag == "table"]
    assert not [r for r in build_view(with_ungated(worse=False)).ungated if r.worse]


def below_min_record() -> EvaluationRecord:
    record = demo_record(verdict="pass", slices=0)
    assert record.compare is not None
    record.compare.metrics.append(metric("roc_auc", 0.9, 0.9, 0.2, slice_="size=tiny", n=12))
    record.compare.gates.append(
        GateResult(
            metric="roc_auc",
            rule="non_inferior",
            margin=0.01,
            slice="size=tiny",
            verdict="inconclusive",
            p_value=0.4,
            adjusted_p_value=0.4,
            reason="delta 0 [-0.2, 0.2]; below min_size (n=12): reported, cannot fail",
        )
    )
    return record


def test_slices_below_min_size_say_they_cannot_fail_and_the_summary_says_what_happened() -> None:
    record = below_min_record()
    verdict = overall_verdict(record)
    assert verdict.label == "pass"
    assert verdict.reason == (
        "all 3 gates passed; 1 slice gate below slices.min_size reported only (cannot fail)"
    )
    for fmt in ("markdown", "html"):
        doc = tree(record, fmt)
        said = [text_of(p) for p in section(doc, "Slices") if p.tag == "p"]
        assert said[0].startswith("0 passed; 1 slice below slices.min_size") or said[0].startswith(
            "0 failed or inconclusive, 0 passed; 1 below slices.min_size"
        ), said
        assert "cannot fail" in said[0]
        table = next(t for t in section(doc, "Slices") if t.tag == "table")
        verdicts = [text_of(tr.find("td")) for tr in table.iter("tr") if tr.find("td") is not None]
        assert verdicts == ["inconclusive (below min_size, cannot fail)"] or verdicts == [
            "⚠️ inconclusive (below min_size, cannot fail)"
        ], verdicts


def test_unchanged_is_said() -> None:
    record = demo_record(verdict="pass")
    assert record.compare is not None
    record.compare.unchanged = True
    assert "unchanged" in overall_verdict(record).reason
    for fmt in ("markdown", "html"):
        said = [p for p in paragraphs(tree(record, fmt)) if p.startswith("Unchanged")]
        assert len(said) == 1 and "every row" in said[0]
    record.compare.unchanged = None  # an old record: nothing claimed
    assert not [p for p in paragraphs(tree(record)) if p.startswith("Unchanged")]


def test_small_p_reads_less_than_a_thousandth_everywhere() -> None:
    record = demo_record()
    assert record.compare is not None
    record.compare.gates[0].reason = "delta 0.004 >= -0.01; Holm-adjusted p=0 < 0.05 (family of 3)"
    record.compare.gates[0].verdict = "inconclusive"  # so the reason is listed
    record.compare.gates[0].adjusted_p_value = 0.0
    for fmt in ("markdown", "html"):
        doc = tree(record, fmt)
        text = " ".join(text_of(e) for e in doc.iter() if e.tag in ("td", "li"))
        assert "Holm-adjusted p < 0.001 < 0.05" in text, fmt
        assert not re.search(r"p=0\b|<0\.001", text), fmt


def test_interval_plot_axis_is_labelled_at_round_numbers() -> None:
    view = build_view(demo_record())
    svg = svg_intervals(view.gates)
    assert svg is not None
    doc = html5lib.parse(svg, namespaceHTMLElements=False)
    labels = [
        t.text for t in doc.iter() if isinstance(t.tag, str) and t.tag.endswith("text") and t.get("class") == "tick"
    ]  # fmt: skip
    values = [float(v.replace("\u2212", "-")) for v in labels]
    assert labels.count("0") == 1 and len(values) >= 3
    step = values[1] - values[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5))
    assert all(math.isclose(v / step, round(v / step), abs_tol=1e-9) for v in values)
    # every other text is a gate label: no stray "0" above the plot
    others = [t.text for t in doc.iter() if isinstance(t.tag, str) and t.tag.endswith("text")]
    assert others.count("0") == 1


def test_nice_ticks() -> None:
    assert nice_ticks(-0.05, 0.12) == [-0.05, 0.0, 0.05, 0.1]
    assert nice_ticks(-1.2, 30) == [0.0, 10.0, 20.0, 30.0]
    assert nice_ticks(-0.0292, 0.0182) == [-0.02, -0.01, 0.0, 0.01]


def test_an_undefined_slice_metric_is_said_and_does_not_count() -> None:
    record = below_min_record()
    assert record.compare is not None
    gate = record.compare.gates[-1]
    gate.reason, gate.undefined = "ROC AUC is undefined: the slice holds one class", True
    verdict = overall_verdict(record)
    assert verdict.reason == "all 3 gates passed; 1 undefined on its slice (not gated)"
    table = next(t for t in section(tree(record), "Slices") if t.tag == "table")
    assert [text_of(tr.find("td")) for tr in table.iter("tr") if tr.find("td") is not None] == [
        "⚠️ inconclusive (undefined here, not gated)"
    ]
