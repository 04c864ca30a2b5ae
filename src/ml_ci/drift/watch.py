"""``ml-ci watch``: act on a record's drift verdict.

* ``retrain``: dispatch the retraining workflow (:func:`ml_ci.github.dispatch.dispatch_workflow`).
* ``significant``: open the drift incident asking for human validation, with the drift table;
  never retrain. It is the shared incident of :mod:`ml_ci.github.incidents`, keyed by
  ``(model, version, "drift")``: re-runs update it instead of opening another.
* ``pass``: close the open drift incident, if any, with a "recovered" comment.

The version is the record's release version (``release.version``); a record from ``ml-ci
drift`` alone names none, and its incident's version is ``-`` (the model's drift, whichever
version serves). An issue opened by an older ml-ci (hidden marker :data:`LEGACY_MARKER`, one
per model) is found and updated, so upgrading never duplicates the open issue.

:func:`decide` is the pure decision; :func:`run_watch` performs it through
:class:`~ml_ci.github.client.GitHubClient`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from ml_ci.errors import InputError
from ml_ci.github.incidents import BOTS, IncidentKey
from ml_ci.record.drift import DriftSection
from ml_ci.report.safe import marker_text, md_code, md_link, md_text, plain

if TYPE_CHECKING:
    from ml_ci.github.client import GitHubClient
    from ml_ci.github.incidents import IncidentResult

Action = Literal["nothing", "retrain", "ask_human"]

KIND = "drift"
NO_VERSION = "-"  # the incident is the model's, not a version's
# The marker of the drift issue ml-ci wrote before the shared incident scheme (one per model).
LEGACY_MARKER = "<!-- ml-ci:drift-watch model={model} -->"
MAX_TABLE_ROWS = 60


@dataclass(frozen=True)
class Decision:
    """What watch does and why."""

    action: Action
    verdict: str
    reason: str


@dataclass(frozen=True)
class WatchSettings:
    """What ``ml-ci watch`` was asked to do."""

    repository: str | None  # owner/name
    workflow: str = "retrain.yml"
    ref: str = "main"
    model: str | None = None
    dry_run: bool = False
    labels: tuple[str, ...] = ()  # set when the issue is opened (GitHub creates missing ones)
    version: str | None = None  # the record's release version (None: the model's drift)
    bots: tuple[str, ...] = BOTS  # trusted incident authors besides repository roles


@dataclass
class WatchResult:
    """What watch did (``done`` is False on a dry run or when there was nothing to do)."""

    action: Action
    verdict: str
    reason: str
    dry_run: bool
    done: bool = False
    repository: str | None = None
    workflow: str | None = None
    ref: str | None = None
    issue_number: int | None = None
    issue_url: str | None = None
    issue_created: bool | None = None
    version: str | None = None
    incident: str | None = None  # opened | updated | closed | none (None: not looked up)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def decide(section: DriftSection | None) -> Decision:
    """The action for a drift section: pass -> nothing, retrain -> retrain, significant ->
    ask a human (and do not retrain)."""
    if section is None:
        raise InputError("the record has no drift section; run ml-ci drift --output RECORD first")
    drifted = [c.column for c in section.columns if c.drifted]
    failed = [f"{f.check} ({f.column})" for f in section.quality if f.verdict == "fail"]
    if section.verdict == "significant":
        detail = ", ".join(
            [*(f"{c.column}" for c in section.columns if c.level == "significant"), *failed]
        )
        return Decision(
            "ask_human", "significant", f"significant drift or quality failure: {detail}"
        )
    if section.verdict == "retrain":
        return Decision(
            "retrain", "retrain", f"{len(drifted)} drifted column(s): {', '.join(drifted)}"
        )
    return Decision("nothing", "pass", "no column drifted beyond the retrain threshold")


def incident_key(model: str | None, version: str | None) -> IncidentKey:
    """The drift incident of ``model`` at ``version`` (``-`` for either when unknown); a name
    the marker cannot carry is an :class:`InputError`."""
    for name, value in (("model", model), ("release version", version)):
        try:
            IncidentKey(value or NO_VERSION, NO_VERSION, KIND)
        except InputError:
            raise InputError(
                f"the record's {name} {value!r} cannot name a drift incident: use letters, "
                "digits and . _ : @ + - only (as ml-ci.yaml's model.name and release tags do)"
            ) from None
    return IncidentKey(model or NO_VERSION, version or NO_VERSION, KIND)


def legacy_marker(model: str | None) -> str:
    """The marker an older ml-ci wrote for ``model``'s drift issue."""
    return LEGACY_MARKER.format(model=marker_text(model) if model else "-")


def issue_title(model: str | None, version: str | None = None) -> str:
    name = " ".join(plain(part) for part in (model, version) if part)
    return f"Data drift needs human validation{f' ({name})' if name else ''}"


def recovery_comment(section: DriftSection | None, run_url: str | None = None) -> str:
    """The closing comment: the drift verdict is back to pass."""
    share = f" ({section.share_drifted:.0%} of the checked columns drifted)" if section else ""
    run = f" {md_link('Workflow run', run_url)}." if run_url else ""
    return f"Recovered: `ml-ci drift` found no drift beyond the retrain threshold{share}.{run}\n"


def issue_body(
    section: DriftSection,
    model: str | None,
    run_url: str | None = None,
    *,
    version: str | None = None,
) -> str:
    """The issue text: what happened, the drift table, the failed quality checks (the incident
    marker is added by :func:`ml_ci.github.incidents.open_or_update`).

    Every record value is escaped for markdown (:mod:`ml_ci.report.safe`)."""
    lines = [
        "## Data drift needs human validation",
        "",
        f"`ml-ci drift` found **significant** drift"
        f"{f' for model {md_code(model)}' if model else ''}"
        f"{f' at version {md_code(version)}' if version else ''}: "
        f"{section.share_drifted:.0%} of the checked columns drifted. Automatic retraining is "
        "**not** triggered at this level; please look at the data, then retrain or accept it.",
        "",
    ]
    if section.reference or section.current:
        lines += [
            f"Reference: {md_code(section.reference)}, current: {md_code(section.current)}.",
            "",
        ]
    if run_url:
        lines += [f"Run: {md_link('workflow run', run_url)}", ""]
    lines += drift_tables(section)
    return "\n".join(lines) + "\n"


def drift_tables(section: DriftSection, limit: int = MAX_TABLE_ROWS) -> list[str]:
    """The drift table (drifted columns first, at most ``limit``) and the data-quality
    problems with their detail, as markdown lines: the one table of every drift issue
    (``ml-ci watch``'s and ``ml-ci monitor --apply``'s). Every record value is escaped."""
    ordered = sorted(section.columns, key=lambda c: (not c.drifted, -(c.value or 0.0)))
    lines = [
        "| column | method | value | retrain at | significant at | p-value | adj. p | level |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in ordered[:limit]:
        value = "-" if c.value is None else f"{c.value:.4f}"
        significant = "-" if c.significant_threshold is None else f"{c.significant_threshold:g}"
        lines.append(
            f"| {md_code(c.column)} | {md_text(c.method)} | {value} | {c.threshold:g} | "
            f"{significant} | {_p(c.p_value)} | {_p(c.adjusted_p_value)} | "
            f"{'**' + c.level + '**' if c.drifted else c.level} |"
        )
    if len(ordered) > limit:
        lines.append(f"\n{len(ordered) - limit} more column(s) did not fit.")
    problems = [f for f in section.quality if f.verdict != "pass"]
    if problems:
        lines += ["", "### Data quality", "", "| check | column | rows | verdict | detail |"]
        lines.append("|---|---|---:|---|---|")
        lines += [
            f"| {md_text(f.check)} | {md_code(f.column or '-')} | {f.rows} | {f.verdict} | "
            f"{md_text(f.detail or '')} |"
            for f in problems
        ]
    return lines


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


def run_watch(
    section: DriftSection | None,
    settings: WatchSettings,
    client: GitHubClient | None,
    *,
    run_url: str | None = None,
) -> WatchResult:
    """Decide, then (unless a dry run) dispatch the workflow, open/update the drift incident,
    or close it on a pass."""
    decision = decide(section)
    result = WatchResult(
        action=decision.action,
        verdict=decision.verdict,
        reason=decision.reason,
        dry_run=settings.dry_run,
        repository=settings.repository,
        workflow=settings.workflow if decision.action == "retrain" else None,
        ref=settings.ref if decision.action == "retrain" else None,
        version=settings.version,
    )
    # checked before any call: a bad model or version name is the user's to fix, dry run or not
    key = incident_key(settings.model, settings.version)
    if settings.dry_run:
        return result
    if not settings.repository:
        raise InputError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    if client is None:
        raise InputError("a GitHub client is needed unless --dry-run")
    from ml_ci.github import incidents

    legacy = (legacy_marker(settings.model),)
    if decision.action == "retrain":
        from ml_ci.github.dispatch import dispatch_workflow

        # a drift incident stays open: retraining is not recovery, the next pass closes it
        dispatch_workflow(client, settings.repository, settings.workflow, settings.ref)
        result.done = True
        return result
    if decision.action == "nothing":
        closed = incidents.close_on_recovery(
            client,
            settings.repository,
            key,
            comment=recovery_comment(section, run_url),
            legacy=legacy,
            bots=settings.bots,
        )
        _incident(result, closed)
        result.done = closed.action == "closed"
        return result
    assert section is not None
    opened = incidents.open_or_update(
        client,
        settings.repository,
        key,
        title=issue_title(settings.model, settings.version),
        body=issue_body(section, settings.model, run_url, version=settings.version),
        labels=settings.labels,
        legacy=legacy,
        bots=settings.bots,
    )
    _incident(result, opened)
    result.done = True
    return result


def _incident(result: WatchResult, incident: IncidentResult) -> None:
    result.incident = incident.action
    result.issue_number = incident.number
    result.issue_url = incident.url
    if incident.action in ("opened", "updated"):
        result.issue_created = incident.action == "opened"
