"""The model card in the report's ``<details>``: its markdown source in a code block that no
record string can close, parsed back by ``huggingface_hub``; dropped before anything else
when the comment would pass GitHub's size limit."""

from __future__ import annotations

from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ml_ci.record import LineageEntry, ReleaseSection
from ml_ci.release.release import release_notes
from ml_ci.report.model_card import model_card
from ml_ci.report.render import COMMENT_LIMIT, card_preview, render
from tests.report.records import demo_record, with_governance
from tests.report.test_safe import HOSTILE, elements, gfm, local

MANIFEST = {
    "model": "churn",
    "artifact": {"path": "m.pkl", "hash": "h"},
    "canary_traffic": 0.1,
    "rollback_to": None,
    "record_digest": "sha256:x",
}


def code_blocks(text: str) -> list[str]:
    """The text of every fenced code block, as a GFM parser reads them."""
    tree = elements(gfm().render(text))
    return ["".join(node.itertext()) for node in tree.iter() if local(str(node.tag)) == "pre"]


def test_the_report_shows_the_card_in_details_and_it_parses() -> None:
    record = with_governance(demo_record(verdict="pass"))
    record.release = ReleaseSection(
        model="churn", version="v0.3.0", stage="canary", commit="c" * 40, tags=[]
    )
    text = render(record)
    start = text.index("<details><summary>Model card")
    assert "v0.3.0" in text[start : text.index("</summary>", start)]
    (block,) = [b for b in code_blocks(text) if b.startswith("---\n")]
    assert block == card_preview(record)
    card = ModelCard(block)
    assert card.data.to_dict()["model_version"] == "v0.3.0"
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert {r.metric_type: r.metric_value for r in results} == {
        m.name: m.candidate
        for m in record.compare.metrics  # type: ignore[union-attr]
        if m.slice is None
    }
    assert "added from the merged commit" in card.text  # no intended use in a pull request
    html = render(record, "html")
    assert '<details id="model-card">' in html and "model-index:" in html


def test_backticks_in_record_strings_cannot_close_the_card_block() -> None:
    record = demo_record()
    record.model = "m```` \n</details>\n# PASS " + HOSTILE
    record.artifact = LineageEntry(path="`````` <script>x</script>", hash="```", kind="out")
    text = render(record)
    (block,) = [b for b in code_blocks(text) if b.startswith("---\n")]
    assert block == card_preview(record)  # the whole card stayed inside its block
    html = gfm().render(text)
    assert "<script>" not in html and html.count("<details>") == html.count("</details>")
    # the team's section may hold code blocks of its own: at release they are in the card
    written = "Use:\n\n````python\n```\n</details>\n\n# PASS\n````\n"
    card = model_card(record, task="binary", intended_use=written)
    notes = release_notes(record, "v1.0.0", MANIFEST, card)
    (block,) = [b for b in code_blocks(notes) if b.startswith("---\n")]
    assert block == card


def test_a_huge_card_goes_before_the_comment_passes_the_limit() -> None:
    record = demo_record(slices=3000, columns=20)
    full = render(record, limit=10**9)
    assert "<details><summary>Model card" in full and len(full) > COMMENT_LIMIT
    text = render(record)
    assert len(text) <= COMMENT_LIMIT - 200
    assert "<details><summary>Model card" not in text
    assert "The model card (`MODEL_CARD.md`) is in the full report" in text


def test_the_release_notes_carry_the_release_card_not_a_preview() -> None:
    record = with_governance(demo_record(verdict="pass"))
    notes = release_notes(record, "v1.0.0", MANIFEST, "---\nmodel_version: v1.0.0\n---\nOURS\n")
    (block,) = [b for b in code_blocks(notes) if b.startswith("---\n")]
    assert block == "---\nmodel_version: v1.0.0\n---\nOURS\n"
