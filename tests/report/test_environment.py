"""The report's environment section: a diff against the base, every value escaped (15.6)."""

from __future__ import annotations

import pytest

from ml_ci.record import BaseEnvironment, EnvironmentSection, EvaluationRecord, Fingerprint
from ml_ci.report.render import render
from tests.report.records import demo_record
from tests.report.test_safe import (
    HOSTILE_VALUES,
    HTML_TAGS,
    SECTIONS,
    check_html,
    check_markdown,
    elements,
    gfm,
    local,
)

HERE = {"python": "3.11.9", "platform": "Linux-x86_64", "lockfile": "uv.lock:sha256:bb"}


def with_environment(section: EnvironmentSection | None) -> EvaluationRecord:
    record = demo_record()
    record.environment = section
    return record


def rows(html: str) -> dict[str, list[str]]:
    """key label -> the cells of the environment table of an HTML report."""
    table = next(t for t in elements(html).iter("table") if t.get("id") == "environment-keys")
    found = {}
    for tr in table.find("tbody"):
        cells = ["".join(td.itertext()) for td in tr if local(td.tag) == "td"]
        found[cells[1]] = [cells[0], cells[2], cells[3]]
    return found


def test_the_keys_that_differ_from_the_base_are_marked() -> None:
    base = BaseEnvironment(
        source="the release tag of churn v1.2.0", python="3.11.9", lockfile="uv.lock:sha256:aa"
    )
    record = with_environment(EnvironmentSection(**HERE, base=base))
    table = rows(render(record, "html"))
    assert table["lock file"] == ["changed", "uv.lock:sha256:aa", "uv.lock:sha256:bb"]
    assert table["Python"] == ["", "3.11.9", "3.11.9"]
    assert table["platform"] == ["", "\N{EN DASH}", "Linux-x86_64"]  # the base did not say
    text = render(record)
    assert "**1 key differs** from the base \\(the release tag of churn v1.2.0\\)." in text
    tree = elements(gfm().render(text))
    cells = [["".join(td.itertext()) for td in tr] for tr in tree.iter("tr")]
    assert ["⚠️", "lock file", "uv.lock:sha256:aa", "uv.lock:sha256:bb"] in cells


def test_without_a_base_it_says_so_and_without_a_section_nothing_is_shown() -> None:
    record = with_environment(EnvironmentSection(**HERE))
    assert "_no base environment recorded._" in render(record)
    assert "no base environment recorded." in render(record, "html")
    bare = render(with_environment(None))
    assert "### Environment" not in bare and "Environment fingerprint" not in bare


def test_a_release_record_shows_its_own_beside_the_claim() -> None:
    section = EnvironmentSection(
        **HERE, role="release", required=["lockfile"], claimed=Fingerprint(python="2.7.18")
    )
    html = render(with_environment(section), "html")
    assert rows(html)["Python"] == ["changed", "2.7.18", "3.11.9"]
    text = render(with_environment(section))
    assert "**1 key differs** from what the pull request's record claimed \\(shown" in text
    assert "Checked against the merged commit: `lockfile`." in text


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_every_environment_string_is_rendered_as_text(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    keys = ("python", "platform", "lockfile", "packages", "image", "dvc", "ml_ci")
    hostile = dict.fromkeys(keys, value)
    section = EnvironmentSection(**hostile, base=BaseEnvironment(source=value, **hostile))
    record = EvaluationRecord.model_validate(with_environment(section).model_dump(mode="json"))
    headings = SECTIONS | {"ml-ci: churn"}
    for fmt in ("markdown", "summary"):
        check_markdown(render(record, fmt), headings)  # type: ignore[arg-type]
    check_html(elements(render(record, "html")), HTML_TAGS, headings)
    claimed = EnvironmentSection(
        role="release", claimed=Fingerprint(**hostile), required=["python"]
    )
    check_markdown(render(with_environment(claimed)), headings)
