"""``ml-ci approve-status``: evaluate approvals on a pull request and show the result.

Runs on ``pull_request_review``, ``issue_comment`` and ``pull_request`` events (or with
``--repo``/``--pr``). It fetches the pull request, every review and comment, and each
voter's permission, applies :mod:`ml_ci.governance.rules`, writes the ``governance``
section of the record, and -- unless the pull request comes from a fork -- updates the
governance sticky comment and the ``ml-ci/governance`` commit status on the head SHA.

Whether approval is required: ``governance.require`` (from the trusted config) decides;
under ``flagged`` the pull request's record (``--record``, an artifact its own run made, so
a claim) may only ADD the requirement -- fail closed. A record that is not given, missing,
schema-invalid or not for the head, or that says drift was significant or an inconclusive
gate was let pass, makes approval required; nothing in a record can waive it (a forged "no
drift" is caught by the release, which recomputes drift and refuses without the approval).

Forks: ``issue_comment`` and ``pull_request_review`` workflows of a fork's pull request may
run with a write token, and a fork's author controls its branch; so on a fork's pull
request approve-status only evaluates and prints (and writes the local record), it never
writes to GitHub. The release refuses forks anyway (:mod:`ml_ci.release.release`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.errors import MlCiError
from ml_ci.governance.github import evaluate_pull, get_pull
from ml_ci.governance.report import (
    COMMENT_KEY,
    STATUS_CONTEXT,
    render_markdown,
    state_of,
    status_description,
    to_section,
)
from ml_ci.governance.rules import (
    describe_changes,
    governance_required,
    governed_changes,
    inconclusive_let_pass,
)

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.github.client import GitHubClient
    from ml_ci.record import EvaluationRecord
    from ml_ci.record.governance import GovernanceSection


@dataclass
class ApproveStatusSettings:
    config: Config
    repo: str
    number: int
    record_path: Path | None = None
    write: bool = True  # False: evaluate only (--dry-run)
    target_url: str | None = None
    # the config's repository path: a change to it, or to the files it names, needs approval
    # (:func:`ml_ci.governance.rules.governed_files`); None: not in a repository, not checked
    config_file: str | None = None


@dataclass
class ApproveStatusResult:
    section: GovernanceSection
    fork: bool
    written: bool
    comment_url: str | None = None
    required_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "governance": self.section.model_dump(mode="json"),
            "required_reason": self.required_reason,
            "fork": self.fork,
            "written": self.written,
            "comment_url": self.comment_url,
        }


def comment_body(
    config: Config, record: EvaluationRecord | None, section: GovernanceSection
) -> tuple[str, str]:
    """(sticky key, body): the whole report re-rendered with the new governance section
    when the record of the head's evaluation is at hand, else a governance-only comment."""
    if record is not None and record.compare is not None:
        from ml_ci.report.render import render

        template_dir = Path(config.report.template_dir) if config.report.template_dir else None
        text = render(record, "markdown", title=config.report.title, template_dir=template_dir)
        return config.report.key, text
    return COMMENT_KEY, render_markdown(section)


def read_claim(path: Path | None) -> tuple[EvaluationRecord | None, str | None]:
    """The pull request's record, or ``(None, why it is unusable)``; never raises on bad input."""
    from ml_ci.record import load_record

    if path is None:
        return None, "no record was given (--record)"
    try:
        return load_record(path), None
    except MlCiError as error:
        if not path.exists():
            return None, f"no such record {path}"
        return None, f"unverifiable ({error})"


def requirement(
    config: Config, record: EvaluationRecord | None, problem: str | None, head_sha: str
) -> tuple[bool, str]:
    """(approval required?, why). ``record`` can only add a requirement (see the module doc)."""
    rule = config.governance.require
    if rule != "flagged":
        return rule == "always", f"governance.require: {rule}"
    if record is None:
        return True, f"governance.require: flagged and {problem}: approval required (fail closed)"
    claimed = record.repo.head_sha
    if not claimed:
        return True, "the record names no head commit: approval required (fail closed)"
    if claimed.lower() != head_sha.lower():
        return True, (
            f"the record is for {claimed[:12]}, not the head {head_sha[:12]}: approval required "
            "(fail closed)"
        )
    flagged = governance_required(
        config.governance,
        needs_human=record.needs_human,
        inconclusive_let_pass=inconclusive_let_pass(record, config.compare.inconclusive),
    )
    if not flagged:
        return False, "governance.require: flagged, and the head's record flags nothing"
    if record.needs_human:
        return True, "drift was significant (governance.require: flagged)"
    return True, "an inconclusive gate was let pass (governance.require: flagged)"


def execute(
    settings: ApproveStatusSettings,
    client: GitHubClient,
    progress: Callable[[str], None] | None = None,
) -> ApproveStatusResult:
    from ml_ci.record import save_record

    say = progress or (lambda _message: None)
    config = settings.config
    pull = get_pull(client, settings.repo, settings.number)
    say(f"{settings.repo}#{pull.number}: head {pull.head_sha[:7]} by {pull.author}")
    record, problem = read_claim(settings.record_path)
    required, why = requirement(config, record, problem, pull.head_sha)
    if not required and config.governance.require != "never" and settings.config_file:
        from ml_ci.governance.github import changed_files

        # the trusted config is the base's, so its keys name the governed files
        touched = governed_changes(
            settings.config_file,
            config.governance,
            changed_files(client, settings.repo, pull.number),
        )
        if touched:
            required = True
            why = (
                f"the pull request changes {describe_changes(touched)}: approval required "
                "(the new rules apply from the next pull request)"
            )
    say(f"approval {'required' if required else 'not required'}: {why}")
    outcome = evaluate_pull(client, pull, config.governance, required=required)
    section = to_section(outcome, config.governance, pull.head_sha)
    record_matches = record is not None and record.repo.head_sha == pull.head_sha
    if record is not None and settings.record_path is not None:
        if record_matches:
            record.governance = section
            save_record(settings.record_path, record)
        else:
            say(f"record is for {record.repo.head_sha}, not the head: left unchanged")
    if pull.is_fork or not settings.write:
        if pull.is_fork:
            say(f"pull request from the fork {pull.head_repo}: nothing is written to GitHub")
        return ApproveStatusResult(section, pull.is_fork, written=False, required_reason=why)
    from ml_ci.github.publish import set_status, status_payload, upsert_sticky_comment

    key, body = comment_body(config, record if record_matches else None, section)
    comment = upsert_sticky_comment(client, settings.repo, pull.number, key, body)
    set_status(
        client,
        settings.repo,
        pull.head_sha,
        status_payload(
            state_of(section),
            status_description(section),
            context=STATUS_CONTEXT,
            target_url=settings.target_url,
        ),
    )
    return ApproveStatusResult(
        section, False, written=True, comment_url=comment.get("html_url"), required_reason=why
    )
