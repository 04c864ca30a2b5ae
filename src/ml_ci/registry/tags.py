"""GTO-compatible tag names and messages.

The registry lives in annotated git tags, named exactly as GTO (https://dvc.org/doc/gto)
names them, so ``gto show`` and ``ml-ci registry show`` read the same state:

* ``{model}@v{semver}``          register a version at the tagged commit
* ``{model}@v{semver}!``         deregister it
* ``{model}#{stage}#{n}``        assign ``stage`` to the version at the tagged commit
* ``{model}#{stage}!#{n}``       unassign it
* ``{model}@deprecated``         deprecate the model

``n`` is a per-model counter: one above the highest counter among the model's tags. Only
annotated tags count (GTO ignores lightweight tags), and GTO orders them by tagger date.

ml-ci's tag messages are a title line followed by ``key: value`` lines (record digest,
verdict, approvers, pull request, data hashes); see :func:`format_message`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Action = Literal["register", "deregister", "assign", "unassign", "deprecate"]

# The grammar of GTO 1.x (gto/constants.py), rewritten here so ml-ci does not import gto at
# run time; tests/release/test_tags.py checks both parse the same names the same way.
_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
_DIRNAME = r"[a-zA-Z0-9\-_./]+"
_SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
TAG_RE = re.compile(
    rf"^(?P<artifact>(?:{_DIRNAME}=)?(?:{_NAME}))"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)|@(?P<deprecated>deprecated))"
    r"(?:#(?P<counter>[0-9]+))?$"
)


@dataclass(frozen=True)
class ParsedTag:
    """What a registry tag's name says."""

    model: str
    action: Action
    version: str | None = None  # "v1.2.3"
    stage: str | None = None
    counter: int | None = None


def parse_tag(name: str) -> ParsedTag | None:
    """The registry meaning of tag ``name``, or ``None`` for any other tag."""
    match = TAG_RE.match(name)
    if match is None:
        return None
    model = match["artifact"].replace("=", ":")  # GTO writes "dir:name" as "dir=name"
    counter = int(match["counter"]) if match["counter"] else None
    cancel = match["cancel"] == "!"
    if match["deprecated"]:
        return ParsedTag(model, "deprecate", counter=counter)
    if match["version"]:
        action: Action = "deregister" if cancel else "register"
        return ParsedTag(model, action, version=match["version"], counter=counter)
    action = "unassign" if cancel else "assign"
    return ParsedTag(model, action, stage=match["stage"], counter=counter)


def version_tag(model: str, version: str) -> str:
    """``churn@v1.2.0`` -- registers ``version`` (given as ``v1.2.0`` or ``1.2.0``)."""
    return f"{model}@{normalize_version(version)}"


def stage_tag(model: str, stage: str, counter: int) -> str:
    """``churn#production#7`` -- assigns ``stage`` to the version at the tagged commit."""
    return f"{model}#{stage}#{counter}"


def normalize_version(version: str) -> str:
    """``1.2.0`` or ``v1.2.0`` -> ``v1.2.0`` (GTO's spelling of a version)."""
    return version if version.startswith("v") else f"v{version}"


def next_counter(tag_names: list[str], model: str) -> int:
    """One above the highest ``#n`` counter among ``model``'s tags (as ``gto assign`` does)."""
    counters = [
        parsed.counter
        for parsed in map(parse_tag, tag_names)
        if parsed is not None and parsed.model == model and parsed.counter is not None
    ]
    return max(counters, default=0) + 1


def format_message(title: str, fields: dict[str, str]) -> str:
    """A tag message: ``title``, a blank line, then one ``key: value`` line per field.

    Values are kept on one line (newlines become spaces) so :func:`parse_message` can read
    them back; empty values are left out.
    """
    lines = [title.strip(), ""]
    for key, value in fields.items():
        text = " ".join(str(value).split())
        if text:
            lines.append(f"{key}: {text}")
    return "\n".join(lines) + "\n"


def parse_message(message: str) -> dict[str, str]:
    """The ``key: value`` fields of a message written by :func:`format_message`."""
    fields: dict[str, str] = {}
    for line in message.splitlines()[1:]:
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            fields[key] = value.strip()
    return fields
