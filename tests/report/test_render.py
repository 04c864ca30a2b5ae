"""Rendering the report: verdict, section order and presence, overrides, size budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.errors import ConfigError
from ml_ci.record import (
    ColumnDrift,
    CompareSection,
    DriftSection,
    EvaluationRecord,
    GateResult,
    ReproSection,
)
from ml_ci.record.pipeline import OutputCheck
from ml_ci.report.render import (
    COMMENT_LIMIT,
    SUMMARY_LIMIT,
    fmt_delta,
    fmt_num,
    fmt_p,
    md_cell,
    render,
)
from ml_ci.report.view import build_view, overall_verdict
from tests.report.records import demo_record, metric, with_governance


def outside_code(text: str) -> str:
    """The markdown outside fenced code blocks (the model card is shown as one)."""
    kept, fence = [], ""
    for line in text.splitlines():
        run = line[: len(line) - len(line.lstrip("`"))]
        if fence and line.strip() == fence:
            fence = ""
        elif not fence and len(run) >= 3:
            fence = run
        elif not fence:
            kept.append(line)
    return "\n".join(kept)


def headings(text: str) -> list[str]:
    return [line for line in outside_code(text).splitlines() if line.startswith("### ")]


def test_sections_top_to_bottom() -> None:
    text = render(with_governance(demo_record()))
    assert text.splitlines()[2].startswith("**❌ FAIL**: 1 of 7 gates failed: roc_auc")
    assert headings(text) == [
        "### Gates",
        "### Slices",
        "### Latency SLO",
        "### Data drift and quality",
        "### Reproduction",
        "### Data lineage",
        "### Links",
        "### Governance",
    ]
    assert text.index("```mermaid") < text.index("### Slices")


def test_failed_rows_come_first() -> None:
    view = build_view(demo_record())
    assert [r.verdict for r in view.gates] == ["fail", "pass"]
    text = render(demo_record())
    assert text.index("| ❌ fail | roc_auc |") < text.index("| ✅ pass | accuracy |")


def test_absent_sections_are_not_shown_and_governance_says_not_evaluated() -> None:
    record = EvaluationRecord(
        model="m",
        compare=CompareSection(
            metrics=[metric("roc_auc", 0.9, 0.91, 0.01)],
            gates=[GateResult(metric="roc_auc", rule="non_inferior", margin=0.01, verdict="pass")],
            verdict="pass",
        ),
    )
    text = render(record)
    assert headings(text) == ["### Gates", "### Governance"]
    assert "not evaluated yet" in text
    assert "**✅ PASS**: all 1 gates passed" in text


@pytest.mark.parametrize(
    ("change", "label", "state"),
    [
        ("fail", "fail", "failure"),
        ("inconclusive", "inconclusive", "failure"),
        ("needs human", "needs human validation", "pending"),
        ("pass", "pass", "success"),
    ],
)
def test_verdicts(change: str, label: str, state: str) -> None:
    verdict = overall_verdict(demo_record(verdict=change))
    assert (verdict.label, verdict.state) == (label, state)
    assert verdict.reason


def test_failed_reproduction_wins() -> None:
    record = demo_record(verdict="pass")
    record.repro = ReproSection(
        verdict="mismatch",
        outputs=[OutputCheck(path="model.pkl", expected="aa", actual="bb", match=False)],
    )
    verdict = overall_verdict(record)
    assert verdict.label == "fail" and "model.pkl" in verdict.reason
    assert "`model.pkl`: expected `aa`, got `bb`" in render(record)


def test_no_compare_is_inconclusive() -> None:
    verdict = overall_verdict(EvaluationRecord())
    assert verdict.label == "inconclusive" and "ml-ci compare" in verdict.reason


def test_untrusted_text_cannot_break_tables() -> None:
    record = demo_record(slices=0)
    record.drift = DriftSection(
        columns=[
            ColumnDrift(
                column="a|b<script>\nx", method="psi", value=0.5, threshold=0.2, drifted=True
            )
        ],
        share_drifted=1.0,
        verdict="retrain",
    )
    text = render(record)
    assert "a\\|b&lt;script&gt; x" in text and "<script>" not in outside_code(text)
    assert md_cell("x|y") == "x\\|y"


def test_p_value_format_and_mermaid() -> None:
    assert (fmt_p(0.0004), fmt_p(0.0123), fmt_p(None)) == ("< 0.001", "0.012", "\u2013")
    assert [fmt_num(v) for v in (0.98951, 13.5, 1.3e-16, 7, None)] == [
        "0.9895",
        "13.5",
        "0.0000",
        "7",
        "\u2013",
    ]
    assert [fmt_delta(v) for v in (0.0003, -0.004, 1.5)] == ["+0.0003", "\u22120.0040", "+1.5"]
    text = render(demo_record())
    assert 'x-axis ["roc_auc", "accuracy"]' in text and "bar [-0.019, 0.004]" in text


def test_block_override_from_template_dir(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        '{% extends "ml-ci/report.md.j2" %}{% block governance %}### Sign-off\nAsk #ml-leads.'
        "{% endblock %}",
        encoding="utf-8",
    )
    text = render(with_governance(demo_record()), template_dir=tmp_path)
    assert "### Sign-off" in text and "### Governance" not in text
    assert "### Gates" in text  # the other blocks are the bundled ones


def test_template_problems_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="template_dir"):
        render(demo_record(), template_dir=tmp_path / "missing")
    (tmp_path / "report.md.j2").write_text("{% block x %}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"report\.md\.j2") as caught:
        render(demo_record(), template_dir=tmp_path)
    assert "\n" not in str(caught.value)


def test_huge_record_degrades_to_fit_a_comment() -> None:
    record = demo_record(slices=4000, columns=3000)
    full = render(record, limit=10**9)
    assert len(full) > COMMENT_LIMIT  # the test really needs degrading
    text = render(record)
    assert len(text) <= COMMENT_LIMIT - 200
    assert "more rows not shown" in text and "full report" in text
    assert "**❌ FAIL**" in text and "| ❌ fail | roc_auc |" in text  # what matters survives
    assert "<details>" not in text  # collapsed lists go first


def test_summary_fits_a_mebibyte() -> None:
    record = demo_record(slices=2000, columns=10)
    for index in range(10_000):
        record.compare.gates.append(  # type: ignore[union-attr]
            GateResult(
                metric="accuracy",
                rule="non_inferior",
                margin=0.01,
                verdict="pass",
                reason=f"reason {index} " + "x" * 40,
            )
        )
    assert len(render(record, "summary", limit=10**9).encode()) > SUMMARY_LIMIT
    text = render(record, "summary")
    assert len(text.encode()) <= SUMMARY_LIMIT
    assert "**❌ FAIL**" in text


def test_rules_margins_and_interval_level() -> None:
    record = demo_record()
    text = render(record)
    assert "| delta [95% CI] |" in text
    assert "absolute (value <= 20)" in text
    gate = record.compare.gates[1]  # type: ignore[union-attr]
    gate.relative, gate.mde, gate.threshold, gate.reason = True, 0.031, -0.00981, None
    row = next(r for r in build_view(record).gates if r.metric == "roc_auc")
    assert row.rule_text == "non_inferior (1% of baseline)"
    assert row.bound == -0.00981  # the compare stage's threshold, relative margin applied
    assert "smallest difference this sample can detect: 0.0310" in render(record)


@pytest.mark.parametrize(
    ("setting", "state"),
    [(None, "failure"), ("fail", "failure"), ("warn", "success"), ("pass", "success")],
)
def test_inconclusive_status_follows_the_config(setting: str | None, state: str) -> None:
    record = demo_record(verdict="inconclusive")
    record.compare.inconclusive = setting  # type: ignore[union-attr,assignment]
    verdict = overall_verdict(record)
    assert (verdict.label, verdict.state) == ("inconclusive", state)
    assert verdict.reason.startswith("3 of 7 gates inconclusive: roc_auc, roc_auc [region=r1]")


def test_significant_drift_stays_pending_until_an_approver_signs_off() -> None:
    record = with_governance(demo_record(verdict="needs human"))
    assert overall_verdict(record).label == "needs human validation"  # not satisfied yet
    assert record.governance is not None
    record.governance.satisfied = True
    record.governance.approved_by = ["alice", "bob"]
    verdict = overall_verdict(record)
    assert (verdict.label, verdict.state) == ("pass", "success")
    assert verdict.reason.endswith("signed off by alice, bob")
