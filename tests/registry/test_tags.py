"""Tag names, messages and version arithmetic; parsing agrees with GTO's own parser."""

from __future__ import annotations

import pytest
from gto.tag import parse_name

from ml_ci.errors import InputError
from ml_ci.registry.tags import (
    format_message,
    next_counter,
    parse_message,
    parse_tag,
    stage_tag,
    version_tag,
)
from ml_ci.registry.versioning import bump, bump_from_labels, next_version

NAMES = [
    "churn@v1.2.3",
    "churn@v1.2.3!",
    "churn@v1.0.0-rc.1+build.5",
    "churn#production#7",
    "churn#canary!#8",
    "churn#prod",
    "churn@deprecated",
    "models=churn@v0.1.0",
    "churn-v2#staging#1",
    "v1.0.0",
    "churn@1.2.3",
    "churn#",
    "-bad@v1.0.0",
    "churn@v01.2.3",
    "release-2024",
]


@pytest.mark.parametrize("name", NAMES)
def test_parse_agrees_with_gto(name: str) -> None:
    ours = parse_tag(name)
    theirs = parse_name(name, raise_on_fail=False)
    assert (ours is None) == (not theirs), name
    if ours is not None:
        assert ours.model == theirs["name"]
        assert ours.action == theirs["action"].value
        assert ours.version == theirs.get("version")
        assert ours.stage == theirs.get("stage")
        assert ours.counter == theirs.get("counter")


def test_names_round_trip() -> None:
    assert version_tag("churn", "1.4.0") == "churn@v1.4.0"
    assert version_tag("churn", "v1.4.0") == "churn@v1.4.0"
    parsed = parse_tag(stage_tag("churn", "production", 12))
    assert parsed is not None
    assert (parsed.model, parsed.stage, parsed.counter) == ("churn", "production", 12)


def test_next_counter_counts_only_this_models_tags() -> None:
    names = ["churn#canary#3", "churn@v0.1.0", "other#prod#9", "churn#prod!#5", "x"]
    assert next_counter(names, "churn") == 6
    assert next_counter(names, "new-model") == 1


def test_message_round_trip_keeps_fields_on_one_line() -> None:
    text = format_message(
        "ml-ci: register churn v1.0.0", {"verdict": "pass", "data": "a\nb", "x": ""}
    )
    assert text.splitlines()[0] == "ml-ci: register churn v1.0.0"
    assert parse_message(text) == {"verdict": "pass", "data": "a b"}


@pytest.mark.parametrize(
    ("version", "kind", "expected"),
    [
        (None, "minor", "v0.1.0"),
        (None, "major", "v1.0.0"),
        (None, "patch", "v0.0.1"),
        ("v1.4.2", "major", "v2.0.0"),
        ("v1.4.2", "minor", "v1.5.0"),
        ("v1.4.2", "patch", "v1.4.3"),
        ("v1.5.0-rc.1", "patch", "v1.5.1"),
    ],
)
def test_bump(version: str | None, kind: str, expected: str) -> None:
    assert bump(version, kind) == expected  # type: ignore[arg-type]


def test_next_version_uses_semver_order_not_text_order() -> None:
    assert next_version(["v0.9.0", "v0.10.0", "v0.2.0"], "minor") == "v0.11.0"


def test_labels_pick_the_largest_bump() -> None:
    assert bump_from_labels(["bug", "ml-ci:patch", "ml-ci:major"]) == "major"
    assert bump_from_labels(["ml-ci:bogus", "minor"]) is None


def test_bad_version_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="not semantic versioning"):
        bump("one.two", "minor")
