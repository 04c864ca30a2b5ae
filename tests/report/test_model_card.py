"""MODEL_CARD.md: huggingface_hub parses the front matter back into the record's values."""

from __future__ import annotations

from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ml_ci.report.model_card import model_card
from tests.report.records import demo_record, with_governance


def test_front_matter_parses_offline_into_the_records_metrics() -> None:
    record = with_governance(demo_record(verdict="pass"))
    text = model_card(record, task="binary", version="v0.2.0", intended_use="Screening aid only.")
    card = ModelCard(
        text
    )  # parses the YAML front matter; no network (validate() would call the Hub)
    data = card.data.to_dict()
    assert data["model_version"] == "v0.2.0" and "ml-ci" in data["tags"]
    name, results = model_index_to_eval_results(data["model-index"])
    assert name == record.model
    expected = {
        m.name: m.candidate
        for m in record.compare.metrics  # type: ignore[union-attr]
        if m.slice is None and m.candidate is not None
    }
    got = {r.metric_type: r.metric_value for r in results}
    assert got == expected and expected
    assert {r.task_type for r in results} == {"tabular-classification"}
    assert "Screening aid only." in card.text
    assert "\n## Approvals\n" in card.text and "\n### Gates\n" in card.text


def test_without_a_written_section_the_card_says_so_and_hostile_names_stay_text() -> None:
    record = demo_record()
    record.model = "<img src=x onerror=alert(1)> @team"
    text = model_card(record, task="regression")
    card = ModelCard(text)
    assert "Not written yet" in card.text
    assert "<img" not in card.text and "@team" not in card.text
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert {r.task_type for r in results} == {"tabular-regression"}
