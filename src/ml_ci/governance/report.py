"""Governance as the record section, a markdown block, and a commit-status payload."""

from __future__ import annotations

from datetime import UTC, datetime

from ml_ci.config.governance import GovernanceConfig
from ml_ci.governance.rules import Outcome
from ml_ci.record.governance import GovernanceSection
from ml_ci.report.safe import md_code, md_text

STATUS_CONTEXT = "ml-ci/governance"
COMMENT_KEY = "governance"


def to_section(outcome: Outcome, config: GovernanceConfig, head_sha: str) -> GovernanceSection:
    """The record's ``governance`` section for ``outcome``."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return GovernanceSection(
        required=outcome.required,
        required_approvals=config.required_approvals,
        approvers=list(config.approvers),
        teams=list(config.teams),
        decisions=outcome.decisions,
        satisfied=outcome.satisfied,
        head_sha=head_sha,
        approved_by=outcome.approved_by,
        rejected_by=outcome.rejected_by,
        checked_at=now,
        approve_command=outcome.approve_command if head_sha else None,
    )


def state_of(section: GovernanceSection) -> str:
    """Commit-status state: success, failure (a rejection) or pending (waiting)."""
    if section.satisfied:
        return "success"
    return "failure" if section.rejected_by else "pending"


def status_description(section: GovernanceSection) -> str:
    if not section.required:
        return "approval not required"
    if section.rejected_by:
        return f"rejected by {', '.join(section.rejected_by)}"
    have = len(section.approved_by)
    if section.satisfied:
        return f"approved by {', '.join(section.approved_by)} ({have}/{section.required_approvals})"
    return f"waiting for approval ({have}/{section.required_approvals})"


def render_markdown(section: GovernanceSection) -> str:
    """The governance block of the pull-request comment: verdict and every decision."""
    sha = (section.head_sha or "")[:7]
    full = section.head_sha or ""
    verdict = (
        "✅ approved"
        if section.satisfied
        else ("❌ rejected" if section.rejected_by else "⏳ waiting for approval")
    )
    lines = [
        f"### ml-ci governance: {verdict}",
        "",
        f"{md_text(status_description(section))} for head {md_code(sha)}.",
    ]
    if section.required and not section.satisfied and not section.rejected_by:
        lines += [
            "",
            # the full SHA: a prefix is refused (it could be brute-forced onto another commit)
            f"An approver approves with a review, or a comment {md_code('/ml-ci approve ' + full)} "
            f"(reject: {md_code('/ml-ci reject ' + full + ' <reason>')}).",
        ]
    if section.decisions:
        lines += ["", "| who | what | how | commit | when | counted |", "|---|---|---|---|---|---|"]
        for d in section.decisions:
            counted = "yes" if d.counted else f"no: {d.reason}"
            if d.counted and d.reason:
                counted = f"yes ({d.reason})"
            lines.append(
                f"| {md_code('@' + d.actor)} | {d.action} | {d.via} | {md_code(d.sha[:7] or '-')} "
                f"| {md_text(d.at)} | {md_text(counted)} |"
            )
    return "\n".join(lines) + "\n"
