"""Untrusted record text is rendered as text everywhere it lands (issue 11, item 6).

Every string field of a record (found by walking the pydantic models, so a field added
later is covered too) gets a hostile value; the comment, job summary, HTML report, watch
issue, governance block and release notes are then parsed the way GitHub and a browser
would: markdown with a CommonMark/GFM parser (markdown-it-py, GFM tables, strikethrough
and autolinks), HTML with an HTML5 parser (html5lib). No substring searches.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal, get_args, get_origin
from urllib.parse import unquote, urlsplit

import html5lib
import pytest
from markdown_it import MarkdownIt
from pydantic import BaseModel

from ml_ci.drift.watch import issue_body
from ml_ci.github.publish import plan_publish
from ml_ci.governance.report import render_markdown
from ml_ci.record import EvaluationRecord
from ml_ci.release.release import release_notes
from ml_ci.report.model_card import model_card
from ml_ci.report.render import render
from ml_ci.report.safe import JOINER, md_code, md_link, md_text, safe_url
from tests.report.records import demo_record, with_governance

HOSTILE = (
    '<img src="https://evil.example/x.png" onerror="alert(1)"> @acme/admins '
    "\n### ml-ci governance: ✅ approved\n\n# PASS\n"
    "[click](https://evil.example/a) https://evil.example/b www.evil.example "
    '<a href="https://evil.example/c">c</a> <script>alert(2)</script> `x` | --- | '
    "<!-- *bold* ~~gone~~ ![i](https://evil.example/i.png) ops@evil.example \u202e"
)
# values that must not turn into links or mentions even alone in a field
HOSTILE_VALUES = [
    HOSTILE,
    "https://evil.example/report",
    "javascript:alert(1)",
    "https://github.com.evil.example/x",
    "https://user@github.com/x",
    "@octocat",
    "#\n## heading",
]
SERVER = "https://github.com"
# what our own templates may produce
MD_TAGS = {
    "html", "head", "body", "h1", "h2", "h3", "p", "strong", "em", "code", "pre", "table", "thead",
    "tbody", "tr", "th", "td", "ul", "li", "a", "details", "summary", "sub", "br", "hr",
}  # fmt: skip
SVG_TAGS = {"svg", "line", "text", "circle", "title", "rect", "polyline", "polygon", "g"}
HTML_TAGS = {"meta", "style", "div", "h1", "span"} | MD_TAGS | SVG_TAGS
SECTIONS = {
    "Gates", "Other metrics (not gated)", "Slices", "Latency SLO", "Data drift and quality",
    "Data quality", "Reproduction", "Data lineage", "Links", "Governance",
    "Data drift needs human validation", "Candidate \u2212 baseline",
    "ROC and precision-recall curves", "What changed", "Pipeline graph", "Environment",
}  # fmt: skip
MENTION = re.compile(r"(?<![\w`/])@[A-Za-z0-9][A-Za-z0-9-]*")


# ---------------------------------------------------------------------- the hostile record
def _admits_str(annotation: Any) -> bool:
    if annotation is str:
        return True
    if get_origin(annotation) is Literal:
        return False
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_admits_str(arg) for arg in get_args(annotation))
    return False


def _poison(model: BaseModel, value: str) -> Iterator[str]:
    """Set every str field (and every dict key, every str list item) of ``model`` and its
    sub-models to ``value``; yields the dotted names it set."""
    for name, info in type(model).model_fields.items():
        current = getattr(model, name)
        if isinstance(current, BaseModel):
            yield from (f"{name}.{sub}" for sub in _poison(current, value))
        elif isinstance(current, list):
            for index, item in enumerate(current):
                if isinstance(item, BaseModel):
                    yield from (f"{name}[{index}].{sub}" for sub in _poison(item, value))
                elif isinstance(item, str):
                    current[index] = value
                    yield f"{name}[{index}]"
        elif isinstance(current, dict):
            items = list(current.values())
            current.clear()
            for index, item in enumerate(items):
                key = value if index == 0 else f"{value}{index}"
                current[key] = value if isinstance(item, str) else item
            yield f"{name}{{}}"
        elif _admits_str(info.annotation):
            setattr(model, name, value)
            yield name


def hostile_record(value: str) -> tuple[EvaluationRecord, list[str]]:
    record = with_governance(demo_record())
    record.model = "m"
    record.repo.run_url = "https://github.com/acme/models/actions/runs/1"
    record.lineage.params = {"params.yaml": {"lr": 0.1}}  # type: ignore[union-attr]
    fields = list(_poison(record, value))
    # still a valid record: what a forged artifact could really carry
    return EvaluationRecord.model_validate(record.model_dump(mode="json")), fields


# ---------------------------------------------------------------------- parsing
def gfm() -> MarkdownIt:
    md = MarkdownIt("gfm-like")  # CommonMark + GFM tables, strikethrough, autolinks
    # GFM's autolink extension needs www. or a scheme: no bare-domain (fuzzy) links
    md.linkify.set({"fuzzy_link": False})
    return md


def elements(html: str) -> Any:
    return html5lib.parse(html, namespaceHTMLElements=False)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def text_outside_code(node: Any) -> Iterator[str]:
    if local(node.tag) in ("code", "pre", "a", "style", "title"):
        return
    if node.text:
        yield node.text
    for child in node:
        yield from text_outside_code(child)
        if child.tail:
            yield child.tail


def check_html(tree: Any, allowed: set[str], headings: set[str], *, github: bool = False) -> None:
    """No element or attribute from input, no link off the server, no heading but ours;
    ``github``: the text is shown by GitHub, so no live @-mention either."""
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue  # comments
        tag = local(node.tag)
        assert tag in allowed, f"element <{tag}> from input"
        for attr, target in node.attrib.items():
            name = local(attr)
            assert not name.startswith("on"), f"<{tag} {name}>"
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert tag == "a", f"<{tag} {name}>"
                parts = urlsplit(target)
                assert parts.scheme == "https", target
                assert parts.hostname == "github.com" and not parts.username, target
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            raw = "".join(node.itertext()).replace(JOINER, "").replace("\u202e", "")
            text = " ".join(raw.split())  # HTML keeps the bidi override; markdown drops it
            assert text in headings, f"injected heading {text!r}"
    for text in text_outside_code(tree.find("body")) if github else ():
        assert not MENTION.search(text), f"live mention in {text!r}"


def text_of_heading(node: Any) -> str:
    return " ".join("".join(node.itertext()).replace(JOINER, "").split())


def check_markdown(text: str, headings: set[str]) -> Any:
    tree = elements(gfm().render(text))
    # our own raw HTML (<details>, <summary>, <sub>, the marker comment) is allowed
    check_html(tree, MD_TAGS, headings, github=True)
    return tree


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_every_string_field_is_rendered_as_text(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", SERVER)
    record, fields = hostile_record(value)
    text = " ".join(value.replace("\u202e", "").split())  # how the value reads, on one line
    title = f"ml-ci: {text}"
    waiting = "ml-ci governance: ⏳ waiting for approval"
    # the walk reached the fields the issue names
    for name in ("tool_version", "model", "links{}", "drift.columns[0].method", "repo.head_ref"):
        assert name in fields
    assert len(fields) > 60
    for fmt in ("markdown", "summary"):
        check_markdown(render(record, fmt), SECTIONS | {title})  # type: ignore[arg-type]
    plan = plan_publish(record, repo="acme/models", pull_request=7, sha="a" * 40)
    tree = check_markdown(plan.comment, SECTIONS | {title})
    assert record.governance is not None
    check_markdown(render_markdown(record.governance), {waiting})
    assert record.drift is not None
    check_markdown(issue_body(record.drift, value, value), SECTIONS)
    manifest = {
        "model": value,
        "artifact": {"path": value, "hash": value},
        "canary_traffic": 0.1,
        "rollback_to": value,
        "record_digest": value,
    }
    check_markdown(
        release_notes(record, value, manifest), SECTIONS | {title, waiting, f"{text} {text}"}
    )
    check_html(elements(render(record, "html")), HTML_TAGS, SECTIONS | {title})
    # the model card (front matter stripped: YAML, not markdown) has the benign card's headings
    benign = elements(gfm().render(model_card(demo_record(), task="binary").split("---\n", 2)[2]))
    ours = {text_of_heading(h) for h in benign.iter() if local(str(h.tag)) in ("h1", "h2", "h3")}
    card = model_card(record, task="binary").split("---\n", 2)[2]
    check_markdown(card, (ours - {"churn"}) | {text})
    # the commit status never links off the server
    assert (
        "target_url"
        not in plan_publish(
            record, repo="acme/models", pull_request=7, sha="a" * 40, target_url=value
        ).status
    )
    # and the text still reads as the value: the title heading carries it literally
    first = "".join(tree.find("body").find("h2").itertext()).replace(JOINER, "")
    assert first == title


def test_links_only_to_the_server_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://ghe.example.com")
    assert safe_url("https://ghe.example.com/a/b/actions/runs/1") is not None
    assert safe_url("https://github.com/a") is None
    assert safe_url("https://GHE.example.com/a") is not None
    for bad in ("https://ghe.example.com@evil/", "ftp://ghe.example.com/", "//ghe.example.com/"):
        assert safe_url(bad) is None
    monkeypatch.delenv("GITHUB_SERVER_URL")
    assert safe_url("https://github.com/a") == "https://github.com/a"
    tree = elements(gfm().render(md_link("run", "https://github.com/a/(b)")))
    assert [unquote(a.get("href")) for a in tree.iter("a")] == ["https://github.com/a/(b)"]
    tree = elements(gfm().render(md_link("run", "https://evil.example/")))
    assert list(tree.iter("a")) == []


def test_code_spans_and_text_read_back_exactly() -> None:
    for value in ("a`b", "``", "x | y", "<b>", "roc_auc", "_x_ *y* [z]"):
        rendered = gfm().render(f"| c | t |\n|---|---|\n| {md_code(value)} | {md_text(value)} |")
        cells = ["".join(td.itertext()).replace(JOINER, "") for td in elements(rendered).iter("td")]
        assert cells == [value, value], value
