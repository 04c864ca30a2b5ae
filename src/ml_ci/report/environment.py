"""The report's environment section: this run's fingerprint beside the base's.

A pull request's record: its run's fingerprint (a claim: the author controls the run) diffed
against the base's (the baseline version's release tag, else the base commit's lock file).
A release's record: the release's own scoring environment beside the pull request's claim.
Every value is untrusted text; the templates escape it (``code`` filter / HTML autoescape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ml_ci.fingerprint import KEYS, diff
from ml_ci.report.safe import md_code, md_text

if TYPE_CHECKING:
    from ml_ci.record import EnvironmentSection, EvaluationRecord, Fingerprint

LABELS = {
    "python": "Python",
    "platform": "platform",
    "lockfile": "lock file",
    "packages": "installed packages",
    "image": "container image",
    "dvc": "DVC",
    "ml_ci": "ml-ci",
}


@dataclass(frozen=True)
class EnvironmentRow:
    key: str
    label: str
    other: str | None  # the base's (pull request) or the claimed one (release)
    this: str | None
    changed: bool | None  # None: the other side does not know this key


@dataclass(frozen=True)
class EnvironmentView:
    role: str  # "pull_request" | "release"
    other_label: str  # column heading: "base" or "claimed by the pull request"
    compared: str | None  # what it is compared with, and where that came from; None: nothing
    missing_note: str  # shown when compared is None
    rows: list[EnvironmentRow] = field(default_factory=list)
    required: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[EnvironmentRow]:
        return [row for row in self.rows if row.changed]


def environment_view(record: EvaluationRecord) -> EnvironmentView | None:
    """The rows the ``_environment`` partials show (``None``: the record has no section)."""
    section = record.environment
    if section is None:
        return None
    release = section.role == "release"
    other: Fingerprint | None = section.claimed if release else section.base
    if other is None:
        compared = None
    elif release:
        compared = "what the pull request's record claimed (shown, not trusted)"
    else:
        compared = f"the base ({section.base.source if section.base else ''})"
    mine = section.model_dump(include=set(KEYS))
    theirs = other.model_dump(include=set(KEYS)) if other is not None else {}
    differ = {key for key, _, _ in diff(theirs, mine)}
    rows = [
        # changed None: the other side did not record the key, so nothing can be said
        EnvironmentRow(key, LABELS[key], theirs.get(key), mine[key], None)
        if theirs.get(key) is None
        else EnvironmentRow(key, LABELS[key], theirs[key], mine[key], key in differ)
        for key in KEYS
    ]
    return EnvironmentView(
        role=section.role,
        other_label="claimed by the pull request" if release else "base",
        compared=compared,
        missing_note="the pull request's record has no environment"
        if release
        else "no base environment recorded",
        rows=rows,
        required=list(section.required),
    )


def release_environment_note(own: EnvironmentSection | None, claimed: EvaluationRecord) -> str:
    """Markdown lines for the release notes: the release's own fingerprint (checked against
    the merged commit on ``own.required``) and the pull request's claim where it differs."""
    if own is None:
        return ""
    view = environment_view(claimed.model_copy(update={"environment": own}))
    if view is None:  # pragma: no cover - own is set
        return ""
    shown = ", ".join(
        f"{md_text(row.label)} {md_code(row.this)}" for row in view.rows if row.this is not None
    )
    checked = ", ".join(md_code(key) for key in view.required) or "no key"
    lines = [f"\n_Scoring environment (this release's own, checked on {checked}): {shown}._\n"]
    if own.claimed is None:
        lines.append("_The pull request's record claimed no environment._\n")
    elif view.changed:
        differs = ", ".join(f"{md_text(row.label)} {md_code(row.other)}" for row in view.changed)
        lines.append(
            f"_The pull request's record claimed a different one (not trusted): {differs}._\n"
        )
    else:
        lines.append("_The pull request's record claimed the same environment._\n")
    return "".join(lines)
