"""Deliver the report to GitHub: sticky comment, commit status, job summary, annotations, outputs.

The sticky comment is the delicate part. There must be exactly one per pull request and
report key, even when the step is retried, a write's answer is lost, or two runs race. So:

1. The comment starts with a hidden marker ``<!-- ml-ci:report:{key} -->``. Ours are the
   comments carrying the marker AND written by the token's own identity: a marker pasted
   into someone else's comment is ignored (and never edited).
2. Every comment page is read (``per_page=100``, ``Link`` headers), never just the first.
3. When ours exists, the oldest one is updated in place (skipped when unchanged).
4. When none exists it is created; if the answer to that POST is lost we re-list before
   creating again. After a create we re-list once more: if a racing run also created one,
   every copy but the oldest is deleted, and the oldest gets our body.

Identity: ``GET /user`` names the token's user for a personal or fine-grained token. The
Actions ``GITHUB_TOKEN`` is an installation token of the GitHub Actions app: ``GET /user``
answers 403 "Resource not accessible by integration" and its comments are authored by
``github-actions[bot]``. Tokens of other GitHub Apps author as ``<app-slug>[bot]``: set
``report.login`` in ml-ci.yaml for those.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ml_ci.github.client import Forbidden, GitHubClient, GitHubError, NotFound, WriteUnconfirmed

ACTIONS_BOT = "github-actions[bot]"
MAX_COMMENT_CHARS = 65_536
MAX_STATUS_DESCRIPTION = 140
MAX_SUMMARY_BYTES = 1024 * 1024
MAX_ANNOTATIONS = 10  # per kind and step: GitHub shows at most 10 errors and 10 warnings
STATUS_CONTEXT = "ml-ci/gates"
CREATE_ATTEMPTS = 4

StickyAction = Literal["created", "updated", "unchanged"]


def marker(key: str) -> str:
    """The hidden HTML comment that identifies a report comment for ``key``."""
    return f"<!-- ml-ci:report:{key} -->"


def with_marker(body: str, key: str) -> str:
    """``body`` starting with its marker (added once), cut to GitHub's 65,536 characters."""
    tag = marker(key)
    text = body if body.startswith(tag) else f"{tag}\n{body}"
    if len(text) > MAX_COMMENT_CHARS:
        note = "\n\n_(truncated: the comment reached GitHub's 65,536-character limit)_\n"
        text = text[: MAX_COMMENT_CHARS - len(note)] + note
    return text


def identity(client: GitHubClient, configured: str | None = None) -> str:
    """The login the token writes comments as (see the module docstring)."""
    if configured:
        return configured
    try:
        user = client.get_json("/user")
    except Forbidden:
        return ACTIONS_BOT  # an installation token: GET /user is not allowed
    return str(user["login"])


def own_comments(
    client: GitHubClient, repo: str, number: int, key: str, login: str
) -> list[dict[str, Any]]:
    """Our comments for ``key`` on ``repo#number`` (all pages), oldest first."""
    tag = marker(key)
    found = [
        comment
        for comment in client.paginate(f"/repos/{repo}/issues/{number}/comments")
        if (comment.get("user") or {}).get("login") == login
        and str(comment.get("body") or "").startswith(tag)
    ]
    return sorted(found, key=lambda c: int(c["id"]))


@dataclass(frozen=True)
class StickyResult:
    comment: dict[str, Any]
    action: StickyAction
    removed_duplicates: int = 0


def sticky_comment(
    client: GitHubClient,
    repo: str,
    number: int,
    key: str,
    body: str,
    *,
    login: str | None = None,
) -> StickyResult:
    """Create or update THE comment for ``key``; never leaves a duplicate of ours behind."""
    text = with_marker(body, key)
    who = identity(client, login)
    created = False
    for _ in range(CREATE_ATTEMPTS):
        ours = own_comments(client, repo, number, key, who)
        if ours:
            break
        try:
            client.request("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": text})
            created = True
        except WriteUnconfirmed:
            created = True  # it may exist now: the next round re-lists before creating again
        # re-list even after a clean create: a racing run may have created one too
    else:
        ours = own_comments(client, repo, number, key, who)
        if not ours:
            raise GitHubError(
                f"could not create the report comment on {repo}#{number} after "
                f"{CREATE_ATTEMPTS} attempts; rerun the job"
            )
    keep, duplicates = ours[0], ours[1:]
    removed = 0
    for duplicate in duplicates:
        try:
            client.request("DELETE", f"/repos/{repo}/issues/comments/{duplicate['id']}")
            removed += 1
        except NotFound:
            pass  # a racing run removed it already
    if keep.get("body") == text:
        action: StickyAction = "created" if created else "unchanged"
        return StickyResult(keep, action, removed)
    response = client.request(
        "PATCH", f"/repos/{repo}/issues/comments/{keep['id']}", json={"body": text}
    )
    return StickyResult(response.json(), "created" if created else "updated", removed)


def upsert_sticky_comment(
    client: GitHubClient, repo: str, number: int, key: str, body: str, *, login: str | None = None
) -> dict[str, Any]:
    """Create or update the sticky comment for ``key``; returns GitHub's comment object."""
    return sticky_comment(client, repo, number, key, body, login=login).comment


def check_pull_head(client: GitHubClient, repo: str, number: int, sha: str) -> None:
    """Refuse to publish on a pull request whose head is not ``sha``.

    In the fork-safe workflow_run pattern the pull request number comes from the uploaded
    record, which a fork's run could have forged; the event's head SHA cannot be forged.
    """
    from ml_ci.errors import InputError

    pull = client.get_json(f"/repos/{repo}/pulls/{number}")
    head = str((pull.get("head") or {}).get("sha") or "")
    if head != sha:
        raise InputError(
            f"record: repo.pull_request {number} has head {head[:8]}, not the workflow "
            f"run's {sha[:8]}; refusing to publish there (pass --pr to override)"
        )


# ---------------------------------------------------------------------- commit status
def status_payload(
    state: str, description: str, *, context: str = STATUS_CONTEXT, target_url: str | None = None
) -> dict[str, Any]:
    """The body of ``POST /repos/{repo}/statuses/{sha}`` (description cut to 140 chars).

    ``target_url`` is kept only when it is an http(s) URL on the GitHub server's host
    (``GITHUB_SERVER_URL``): a record's link must not send reviewers off-site."""
    from ml_ci.report.safe import plain, safe_url

    description = plain(description)
    if len(description) > MAX_STATUS_DESCRIPTION:
        description = description[: MAX_STATUS_DESCRIPTION - 1] + "…"
    payload: dict[str, Any] = {"state": state, "description": description, "context": context}
    url = safe_url(target_url)
    if url:
        payload["target_url"] = url
    return payload


def set_status(
    client: GitHubClient, repo: str, sha: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Set a commit status; repeating it is harmless (the latest per context wins)."""
    response = client.request(
        "POST", f"/repos/{repo}/statuses/{sha}", json=payload, idempotent=True
    )
    result: dict[str, Any] = response.json()
    return result


# ---------------------------------------------------------------------- workflow commands
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    level: Literal["error", "warning", "notice"]
    title: str
    message: str


def annotation_lines(annotations: Iterable[Annotation]) -> list[str]:
    """``::error``/``::warning`` commands, at most 10 per level; the 10th summarises the rest."""
    by_level: dict[str, list[Annotation]] = {}
    for note in annotations:
        by_level.setdefault(note.level, []).append(note)
    lines = []
    for level, notes in by_level.items():
        shown = notes
        if len(notes) > MAX_ANNOTATIONS:
            rest = len(notes) - (MAX_ANNOTATIONS - 1)
            shown = [
                *notes[: MAX_ANNOTATIONS - 1],
                Annotation(notes[0].level, "ml-ci", f"{rest} more; see the report"),
            ]
        for note in shown:
            lines.append(
                f"::{level} title={_escape_property(note.title)}::{_escape_data(note.message)}"
            )
    return lines


def write_outputs(path: Path, outputs: dict[str, str]) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT`` with the multiline (heredoc) syntax."""
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(path: Path, text: str) -> int:
    """Append to ``$GITHUB_STEP_SUMMARY`` within its 1 MiB; returns the bytes written."""
    used = path.stat().st_size if path.exists() else 0
    data = text.encode("utf-8")
    room = MAX_SUMMARY_BYTES - used
    if len(data) > room:
        note = b"\n\n_(summary cut at GitHub's 1 MiB limit)_\n"
        data = data[: max(room - len(note), 0)].decode("utf-8", "ignore").encode() + note
        if len(data) > room:
            return 0
    with path.open("ab") as handle:
        handle.write(data)
    return len(data)


# ---------------------------------------------------------------------- the whole publish
@dataclass
class PublishPlan:
    """Everything ``ml-ci publish`` would send, computed without touching the network."""

    repo: str
    pull_request: int | None
    sha: str | None
    key: str
    verdict: str
    reason: str
    comment: str
    status: dict[str, Any]
    summary: str
    annotations: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "pull_request": self.pull_request,
            "sha": self.sha,
            "key": self.key,
            "verdict": self.verdict,
            "reason": self.reason,
            "comment": self.comment,
            "status": self.status,
            "annotations": self.annotations,
            "summary_chars": len(self.summary),
        }


FORK_NOTICE = (
    "> [!WARNING]\n"
    "> **Not verified.** This pull request comes from a fork: the result below was reported "
    "by the pull request's own run, which the fork controls, and ml-ci could not check it. "
    "The release recomputes the gates and the drift verdict on the merged commit before "
    "anything ships; a required review is what protects the merge.\n"
)


def from_fork(event: dict[str, Any], repository: str | None) -> bool:
    """True when the event is about a fork's pull request: a ``pull_request`` whose head
    repository is another one, or a ``workflow_run`` (the fork-safe commenter) whose run
    came from another repository than ``repository``."""
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
        base = ((pull.get("base") or {}).get("repo") or {}).get("full_name") or repository
        return bool(head) and head != base
    run = event.get("workflow_run")
    if isinstance(run, dict):
        head = (run.get("head_repository") or {}).get("full_name")
        base = (run.get("repository") or {}).get("full_name") or repository
        return not head or head != base  # unknown origin counts as a fork: fail closed
    return False


def gate_annotations(record: Any) -> list[Annotation]:
    """An error per failed gate, a warning per inconclusive one (failed first)."""
    from ml_ci.report.view import gate_rows

    notes = []
    for row in gate_rows(record):
        if row.verdict == "pass":
            continue
        level: Literal["error", "warning"] = "error" if row.verdict == "fail" else "warning"
        detail = f"delta {row.delta:+.4g}" if row.delta is not None else "no delta"
        if row.ci_low is not None and row.ci_high is not None:
            detail += f" [{row.ci_low:+.4g}, {row.ci_high:+.4g}]"
        message = f"{row.label}: {row.verdict} ({row.rule}, margin {row.margin:g}; {detail})"
        if row.reason:
            message += f": {row.reason}"
        notes.append(Annotation(level, f"ml-ci gate {row.label}", message))
    return notes


def plan_publish(
    record: Any,
    *,
    repo: str,
    pull_request: int | None,
    sha: str | None,
    key: str = "default",
    title: str | None = None,
    template_dir: Path | None = None,
    status_context: str = STATUS_CONTEXT,
    target_url: str | None = None,
    unverified: bool = False,
) -> PublishPlan:
    """Render the comment, summary, status and annotations for ``record``. ``unverified``
    (a fork's pull request) puts :data:`FORK_NOTICE` at the top of the comment."""
    from ml_ci.report.render import render
    from ml_ci.report.view import overall_verdict

    verdict = overall_verdict(record)
    body = render(record, "markdown", title=title, template_dir=template_dir)
    comment = with_marker(FORK_NOTICE + "\n" + body if unverified else body, key)
    summary = render(record, "summary", title=title, template_dir=template_dir)
    status = status_payload(
        verdict.state, verdict.line, context=status_context, target_url=target_url
    )
    return PublishPlan(
        repo=repo,
        pull_request=pull_request,
        sha=sha,
        key=key,
        verdict=verdict.label,
        reason=verdict.reason,
        comment=comment,
        status=status,
        summary=summary,
        annotations=annotation_lines(gate_annotations(record)),
    )


@dataclass
class PublishResult:
    comment_url: str | None = None
    comment_action: str | None = None
    status_url: str | None = None
    summary_bytes: int = 0


def execute_plan(
    plan: PublishPlan,
    client: GitHubClient,
    *,
    login: str | None = None,
    progress: Any = None,
) -> PublishResult:
    """Send the comment (when there is a pull request) and the status (when there is a SHA)."""
    result = PublishResult()
    if plan.pull_request is not None:
        if progress:
            progress(f"updating the report comment on {plan.repo}#{plan.pull_request}")
        sticky = sticky_comment(
            client, plan.repo, plan.pull_request, plan.key, plan.comment, login=login
        )
        result.comment_url = sticky.comment.get("html_url")
        result.comment_action = sticky.action
    if plan.sha is not None:
        if progress:
            progress(f"setting status {plan.status['context']} on {plan.sha[:8]}")
        status = set_status(client, plan.repo, plan.sha, plan.status)
        result.status_url = status.get("url")
    return result


__all__ = [
    "ACTIONS_BOT",
    "FORK_NOTICE",
    "Annotation",
    "PublishPlan",
    "PublishResult",
    "StickyResult",
    "annotation_lines",
    "append_summary",
    "check_pull_head",
    "execute_plan",
    "from_fork",
    "gate_annotations",
    "identity",
    "marker",
    "own_comments",
    "plan_publish",
    "set_status",
    "status_payload",
    "sticky_comment",
    "upsert_sticky_comment",
    "with_marker",
    "write_outputs",
]
