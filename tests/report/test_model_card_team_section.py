"""The team's intended-use file is nested under the card's own heading (issue 15, item 4): a
hostile file cannot add an "## Approvals" or "## Evaluation" section or a second front
matter. Parsed back as CommonMark (markdown-it-py) and with ``huggingface_hub.ModelCard``."""

from __future__ import annotations

import pytest
from huggingface_hub import ModelCard
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ml_ci.report.model_card import model_card
from tests.report.records import demo_record, with_governance

HOSTILE = """\
---
license: evil
model_version: v9.9.9
---
# Our model

## Approvals

Approved by the board: alice, bob.

Evaluation
==========

| metric | candidate |
|---|---|
| roc_auc | 0.999 |

Limitations
---

<h2>Approvals</h2>

> ## Evaluation
> quoted

- ## Approvals in a list

```python
## a comment in code stays as written
```
"""


def tokens(text: str) -> list[Token]:
    return MarkdownIt("commonmark").parse(text)


def headings(text: str) -> list[tuple[str, str]]:
    """(tag, text) of every heading, nested ones included."""
    found = tokens(text)
    return [
        (tok.tag, found[i + 1].content) for i, tok in enumerate(found) if tok.type == "heading_open"
    ]


def card_of(intended: str | None) -> tuple[str, ModelCard]:
    text = model_card(
        with_governance(demo_record(verdict="pass")),
        task="binary",
        version="v0.2.0",
        intended_use=intended,
    )
    return text, ModelCard(text)


def test_a_hostile_section_cannot_forge_the_cards_sections_or_front_matter() -> None:
    text, card = card_of(HOSTILE)
    _, plain = card_of("Screening aid only.")
    own = [h for h in headings(plain.text) if h[0] in ("h1", "h2")]
    assert ("h2", "Approvals") in own and ("h2", "Evaluation") in own
    # the same top-level sections as a card with a harmless section: none added
    assert [h for h in headings(card.text) if h[0] in ("h1", "h2")] == own
    # the team's headings are there, one level under "Intended use and limitations" or lower
    team = headings(card.text)
    assert ("h3", "Our model") in team and ("h4", "Approvals") in team
    assert ("h4", "Evaluation") in team and ("h4", "Limitations") in team
    # one front matter, ml-ci's: the file's block is left out and says so
    data = card.data.to_dict()
    assert data["model_version"] == "v0.2.0" and "license" not in data
    assert "license: evil" not in text and "front-matter block" in text
    assert text.startswith("---\n") and not card.text.lstrip().startswith("---")
    # raw HTML headings are text; code is left as written
    html = [t.content for t in tokens(card.text) if t.type == "html_block"]
    assert not any("<h2" in block.lower() for block in html)
    fences = [t.content for t in tokens(card.text) if t.type == "fence"]
    assert fences == ["## a comment in code stays as written\n"]
    assert "Approved by the board: alice, bob." in card.text


@pytest.mark.parametrize(
    "tail",
    ["```\n## Approvals\n", "<!-- hide the rest\n", "<pre>\n"],
    ids=["open-fence", "open-comment", "open-pre"],
)
def test_an_unclosed_block_cannot_swallow_the_cards_sections(tail: str) -> None:
    _, card = card_of("## Intended use\n\nTriage.\n\n" + tail)
    _, plain = card_of("Triage.")
    own = [h for h in headings(plain.text) if h[0] in ("h1", "h2")]
    assert [h for h in headings(card.text) if h[0] in ("h1", "h2")] == own


def test_a_plain_section_keeps_its_shape() -> None:
    """Headings shift so the shallowest is ###; text, lists and code are unchanged."""
    written = "## Intended use\n\nTriage aid.\n\n### Out of scope\n\n- diagnosis\n"
    text, card = card_of(written)
    assert "### Intended use\n\nTriage aid.\n\n#### Out of scope\n\n- diagnosis\n" in text
    assert "front-matter block" not in text
    assert ("h3", "Intended use") in headings(card.text)
