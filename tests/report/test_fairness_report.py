"""The report's fairness section: gaps and their bound, per-group rates of both models, the
Holm-family note; group values (data, so untrusted) rendered as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_ci.record import EvaluationRecord, load_record
from ml_ci.report.render import render
from tests.compare.helpers import run_compare
from tests.report.test_safe import (
    HOSTILE,
    HTML_TAGS,
    SECTIONS,
    check_html,
    check_markdown,
    elements,
    gfm,
    local,
)

CONFIG = """
task: binary
fairness: {groups: [group], min_size: 100}
gates:
  - {metric: roc_auc, rule: non_inferior, margin: 0.05}
  - {metric: demographic_parity_difference, rule: non_inferior, margin: 0.05}
  - {metric: gap:recall, rule: non_inferior, margin: 0.05}
"""


def _record(tmp_path, group_names: list[str]) -> EvaluationRecord:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    n = 3000
    group = rng.choice(group_names, n, p=[0.5, 0.47, 0.03])
    y = rng.integers(0, 2, n)
    sb = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.2, n), 0, 1).round(3)
    sc = np.clip(sb + rng.normal(0, 0.03, n), 0, 1).round(3)
    paths = []
    for name, score in (("baseline", sb), ("candidate", sc)):
        frame = pd.DataFrame(
            {
                "id": np.arange(n),
                "y_true": y,
                "y_pred": (score >= 0.5).astype(int),
                "y_score": score,
                "group": group,
            }
        )
        paths.append(tmp_path / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    run_compare(tmp_path, paths[0], paths[1], CONFIG)
    return load_record(tmp_path / "record.json")


def _cells(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [
        ["".join(td.itertext()).strip() for td in tr]
        for tr in table.iter()
        if local(str(tr.tag)) == "tr"
    ]


def test_fairness_section_shows_both_models_per_group_and_the_holm_note(tmp_path) -> None:  # type: ignore[no-untyped-def]
    record = _record(tmp_path, ["a", "b", "tiny"])
    compare = record.compare
    assert compare is not None and len(compare.fairness) == 2
    tree = elements(gfm().render(render(record, "markdown")))
    tables = [t for t in tree.iter() if local(str(t.tag)) == "table"]
    gaps = next(t for t in tables if "gap by group" in _cells(t)[0])
    rows = _cells(gaps)[1:]
    dp = next(f for f in compare.fairness if f.metric == "demographic_parity_difference")
    shown = next(r for r in rows if r[1] == dp.metric)
    assert shown[3] == f"{dp.baseline:.4f}" and shown[4] == f"{dp.candidate:.4f}"
    assert dp.upper is not None and shown[6] == f"{dp.upper:+.4f}".replace("-", "\u2212")
    groups = next(t for t in tables if _cells(t)[0][:3] == ["group", "n", "gated"])
    header, *body = _cells(groups)
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert set(by_name) == {"a", "b", "tiny"}
    assert by_name["tiny"]["gated"].startswith("no")  # below min_size: reported, not gated
    rate = next(r for r in dp.by_group if r.group == "a" and r.rate == "selection_rate")
    assert by_name["a"]["selection_rate baseline"] == f"{rate.baseline:.4f}"
    assert by_name["a"]["selection_rate candidate"] == f"{rate.candidate:.4f}"
    text = "".join(tree.itertext())
    assert "The 2 fairness gates joined the Holm family" in text
    html = elements(render(record, "html"))
    assert "The 2 fairness gates joined the Holm family" in "".join(html.itertext())
    # and the gates table names the grouping
    gate_labels = {r[1] for t in tables for r in _cells(t)[1:] if len(r) > 1}
    assert "gap:recall by group" in gate_labels


@pytest.mark.parametrize("value", [HOSTILE, "<script>alert(1)</script>", "@acme/admins"])
def test_group_values_from_the_data_are_rendered_as_text(tmp_path, value: str) -> None:  # type: ignore[no-untyped-def]
    record = _record(tmp_path, ["a", value, "tiny"])
    assert record.compare is not None
    assert any(r.group == value for r in record.compare.fairness[0].by_group)
    headings = SECTIONS | {"Fairness", f"ml-ci: {record.model or 'model'}"}
    for fmt in ("markdown", "summary"):
        check_markdown(render(record, fmt), headings)  # type: ignore[arg-type]
    check_html(elements(render(record, "html")), HTML_TAGS, headings)
    from ml_ci.report.model_card import model_card

    body = model_card(record, task="binary").split("---\n", 2)[2]  # after the front matter
    ours = {"Model details", "Intended use and limitations", "Evaluation", "Slices", "Gates"}
    ours |= {"Fairness by group", "By group", "Approvals", "Environment", "Lineage"}
    ours |= {record.model or "model"}
    check_markdown(body, ours)


def test_summary_and_model_card_give_each_gates_change_bounds_and_verdict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub import ModelCard

    from ml_ci.report.model_card import model_card

    record = _record(tmp_path, ["a", "b", "tiny"])
    compare = record.compare
    assert compare is not None and compare.fairness
    minus = str.maketrans({"-": "\u2212"})
    summary = elements(gfm().render(render(record, "summary")))
    table = next(t for t in summary.iter() if local(str(t.tag)) == "table" and "by" in _cells(t)[0])
    header, *rows = _cells(table)
    shown = {(r[1], r[2]): dict(zip(header, r, strict=True)) for r in rows}
    assert len(shown) == len(compare.fairness)
    for f in compare.fairness:
        row = shown[(f.metric, f.groups)]
        assert f.delta is not None and f.lower is not None and f.upper is not None
        assert row["change"] == f"{f.delta:+.4f}".translate(minus)
        assert row["bounds"] == f"[{f.lower:+.4f}, {f.upper:+.4f}]".translate(minus)
        assert row[""].endswith(f.verdict)
    card = ModelCard(model_card(record, task="binary"))
    tree = elements(gfm().render(card.content.split("---\n", 2)[2]))
    tables = [_cells(t) for t in tree.iter() if local(str(t.tag)) == "table"]
    gaps = next(t for t in tables if t[0][:2] == ["gap", "rule"])
    by_metric = {r[0]: dict(zip(gaps[0], r, strict=True)) for r in gaps[1:]}
    for f in compare.fairness:
        row = by_metric[f.metric]
        assert row["change"] == f"{f.delta:+.4g}" and row["verdict"] == f.verdict
        assert row["bounds"] == f"[{f.lower:+.4g}, {f.upper:+.4g}]"
        assert row["baseline gap"] == f"{f.baseline:.4g}"
    groups = next(t for t in tables if t[0][:3] == ["group", "n", "gated"])
    rate = next(r for r in compare.fairness[0].by_group if r.group == "a")
    row = next(dict(zip(groups[0], r, strict=True)) for r in groups[1:] if r[0] == "a")
    assert row[f"{rate.rate} baseline"] == f"{rate.baseline:.4g}"
    assert row[f"{rate.rate} candidate"] == f"{rate.candidate:.4g}"
    assert next(r for r in groups[1:] if r[0] == "tiny")[2].startswith("no")
