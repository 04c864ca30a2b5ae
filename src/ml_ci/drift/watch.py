"""``ml-ci watch``: act on a record's drift verdict.

* ``pass``: nothing.
* ``retrain``: dispatch the retraining workflow (:func:`ml_ci.github.dispatch.dispatch_workflow`).
* ``significant``: open an issue asking for human validation, with the drift table; never
  retrain. Re-runs update that issue instead of opening another: it is found by a hidden marker
  in its body, searching every page of the open issues.

:func:`decide` is the pure decision; :func:`run_watch` performs it through
:class:`~ml_ci.github.client.GitHubClient`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from ml_ci.errors import InputError
from ml_ci.record.drift import DriftSection
from ml_ci.report.safe import marker_text, md_code, md_link, md_text, plain

if TYPE_CHECKING:
    from ml_ci.github.client import GitHubClient

Action = Literal["nothing", "retrain", "ask_human"]

# The hidden marker that identifies ml-ci's drift issue (one per model).
MARKER = "<!-- ml-ci:drift-watch model={model} -->"
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


def issue_title(model: str | None) -> str:
    return f"Data drift needs human validation{f' ({plain(model)})' if model else ''}"


def issue_marker(model: str | None) -> str:
    """The hidden marker for ``model`` (made safe inside an HTML comment)."""
    return MARKER.format(model=marker_text(model) if model else "-")


def issue_body(section: DriftSection, model: str | None, run_url: str | None = None) -> str:
    """The issue text: what happened, the drift table, the failed quality checks, the marker.

    Every record value is escaped for markdown (:mod:`ml_ci.report.safe`)."""
    lines = [
        issue_marker(model),
        "## Data drift needs human validation",
        "",
        f"`ml-ci drift` found **significant** drift"
        f"{f' for model {md_code(model)}' if model else ''}: "
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
    ordered = sorted(section.columns, key=lambda c: (not c.drifted, -(c.value or 0.0)))
    lines += [
        "| column | method | value | retrain at | significant at | p-value | adj. p | level |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in ordered[:MAX_TABLE_ROWS]:
        value = "-" if c.value is None else f"{c.value:.4f}"
        significant = "-" if c.significant_threshold is None else f"{c.significant_threshold:g}"
        lines.append(
            f"| {md_code(c.column)} | {md_text(c.method)} | {value} | {c.threshold:g} | "
            f"{significant} | {_p(c.p_value)} | {_p(c.adjusted_p_value)} | "
            f"{'**' + c.level + '**' if c.drifted else c.level} |"
        )
    if len(ordered) > MAX_TABLE_ROWS:
        lines.append(f"\n{len(ordered) - MAX_TABLE_ROWS} more column(s) did not fit.")
    problems = [f for f in section.quality if f.verdict != "pass"]
    if problems:
        lines += ["", "### Data quality", "", "| check | column | rows | verdict | detail |"]
        lines.append("|---|---|---:|---|---|")
        lines += [
            f"| {md_text(f.check)} | {md_code(f.column or '-')} | {f.rows} | {f.verdict} | "
            f"{md_text(f.detail or '')} |"
            for f in problems
        ]
    return "\n".join(lines) + "\n"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


def find_issue(client: GitHubClient, repository: str, marker: str) -> dict[str, Any] | None:
    """The open issue whose body carries ``marker`` (every page; pull requests skipped)."""
    for issue in client.paginate(f"/repos/{repository}/issues", {"state": "open"}):
        if "pull_request" in issue:
            continue
        if marker in (issue.get("body") or ""):
            return dict(issue)
    return None


def run_watch(
    section: DriftSection | None,
    settings: WatchSettings,
    client: GitHubClient | None,
    *,
    run_url: str | None = None,
) -> WatchResult:
    """Decide, then (unless a dry run) dispatch the workflow or open/update the issue."""
    decision = decide(section)
    result = WatchResult(
        action=decision.action,
        verdict=decision.verdict,
        reason=decision.reason,
        dry_run=settings.dry_run,
        repository=settings.repository,
        workflow=settings.workflow if decision.action == "retrain" else None,
        ref=settings.ref if decision.action == "retrain" else None,
    )
    if decision.action == "nothing" or settings.dry_run:
        return result
    if not settings.repository:
        raise InputError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    if client is None:
        raise InputError("a GitHub client is needed unless --dry-run")
    if decision.action == "retrain":
        from ml_ci.github.dispatch import dispatch_workflow

        dispatch_workflow(client, settings.repository, settings.workflow, settings.ref)
        result.done = True
        return result
    assert section is not None
    _open_or_update_issue(client, section, settings, result, run_url)
    return result


def _open_or_update_issue(
    client: GitHubClient,
    section: DriftSection,
    settings: WatchSettings,
    result: WatchResult,
    run_url: str | None,
) -> None:
    from ml_ci.github.client import WriteUnconfirmed

    repository = settings.repository
    marker = issue_marker(settings.model)
    payload: dict[str, Any] = {
        "title": issue_title(settings.model),
        "body": issue_body(section, settings.model, run_url),
    }
    # labels only on creation: an update keeps whatever labels people gave the issue since
    opening = {**payload, "labels": list(settings.labels)} if settings.labels else payload
    issue = find_issue(client, str(repository), marker)
    if issue is None:
        try:
            issue = client.request("POST", f"/repos/{repository}/issues", json=opening).json()
            result.issue_created = True
        except WriteUnconfirmed:
            # the answer was lost: GitHub may have created it; look before creating again
            issue = find_issue(client, str(repository), marker)
            if issue is None:
                issue = client.request("POST", f"/repos/{repository}/issues", json=opening).json()
            result.issue_created = True
    else:
        issue = client.request(
            "PATCH", f"/repos/{repository}/issues/{issue['number']}", json=payload
        ).json()
        result.issue_created = False
    result.issue_number = int(issue["number"])
    result.issue_url = issue.get("html_url")
    result.done = True
