"""Approval rules as pure functions: reviews and comments in, counted decisions out.

An approval is

* a pull-request review in state ``APPROVED`` (``CHANGES_REQUESTED`` is a rejection); it
  applies to the review's ``commit_id``;
* a comment whose first line is ``/ml-ci approve <sha>`` or ``/ml-ci reject <sha> <reason>``,
  where ``<sha>`` is the FULL 40-hex SHA of the head commit being approved. Naming the
  commit is required: a comment carries no SHA of its own, and binding it to "the head at
  the time" would make a push racing the comment approve code nobody saw. A prefix is
  refused: a commit sharing a 7-digit prefix was brute-forced in 17 s on 2 cores, and the
  approval would then have counted for it. A bare ``/ml-ci approve`` or a short SHA is
  reported with the exact line to type (:attr:`Outcome.approve_command`).

It counts when ALL hold (otherwise the decision is kept with the reason it did not count):

1. it is for the current head SHA (a new push voids every earlier approval);
2. the comment was not edited (``updated_at`` differs from ``created_at``);
3. the actor is not the pull request's author, unless ``governance.self_approval``;
4. the actor may approve: at least ``governance.min_permission`` (default write) on the
   repository AND listed in ``governance.approvers`` or an active member of a team in
   ``governance.teams`` (with neither list set: the permission alone). The permission
   comes from the API, never from the comment's ``author_association``; a role ml-ci does
   not know (a custom repository role) counts as no permission.

Per actor only the latest counted decision stands (approve then reject = reject).
Satisfied = no standing rejection and at least ``required_approvals`` standing approvals.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ml_ci.config.governance import GovernanceConfig
from ml_ci.record.governance import Decision

if TYPE_CHECKING:
    from ml_ci.record import EvaluationRecord

# GitHub's base roles, weakest first; custom role names are not in here (fail closed)
ROLE_RANK = {"read": 0, "triage": 1, "write": 2, "maintain": 3, "admin": 4}
# any run of hex digits is taken as the SHA, so that a short one is refused with the reason
COMMAND_RE = re.compile(
    r"^\s*/ml-ci\s+(?P<action>approve|reject)\b(?:\s+(?P<sha>[0-9a-fA-F]+)\b)?(?P<rest>.*)$"
)
FULL_SHA = 40

Via = Literal["review", "comment", "cli"]


@dataclass(frozen=True)
class Vote:
    """One approve/reject, before the rules are applied."""

    actor: str
    action: Literal["approve", "reject"]
    sha: str | None  # None: a comment that did not name the commit
    at: str
    via: Via
    edited: bool = False
    note: str | None = None  # reject reason


@dataclass(frozen=True)
class Outcome:
    required: bool
    satisfied: bool
    decisions: list[Decision]
    approved_by: list[str]
    rejected_by: list[str]
    head_sha: str = ""

    @property
    def approve_command(self) -> str:
        """The exact comment line that approves the current head (to show for copying)."""
        return f"/ml-ci approve {self.head_sha}"

    @property
    def reject_command(self) -> str:
        return f"/ml-ci reject {self.head_sha} <reason>"

    @property
    def summary(self) -> str:
        if not self.required:
            return "approval not required"
        if self.rejected_by:
            return f"rejected by {', '.join(self.rejected_by)}"
        return f"{len(self.approved_by)} approval(s)" + (
            f": {', '.join(self.approved_by)}" if self.approved_by else ""
        )


def votes_from_reviews(reviews: Iterable[Mapping[str, Any]]) -> list[Vote]:
    """APPROVED -> approve, CHANGES_REQUESTED -> reject; other states are not votes."""
    votes = []
    for review in reviews:
        state = str(review.get("state") or "")
        action = {"APPROVED": "approve", "CHANGES_REQUESTED": "reject"}.get(state)
        login = (review.get("user") or {}).get("login")
        if action is None or not login:
            continue
        votes.append(
            Vote(
                actor=str(login),
                action=action,  # type: ignore[arg-type]
                sha=review.get("commit_id"),
                at=str(review.get("submitted_at") or ""),
                via="review",
                note=(review.get("body") or None) if action == "reject" else None,
            )
        )
    return votes


def parse_command(body: str) -> tuple[Literal["approve", "reject"], str | None, str] | None:
    """``(action, sha prefix or None, rest)`` of a ``/ml-ci approve|reject`` first line."""
    first = body.strip().splitlines()[0] if body.strip() else ""
    match = COMMAND_RE.match(first)
    if match is None:
        return None
    action: Literal["approve", "reject"] = "approve" if match["action"] == "approve" else "reject"
    return action, (match["sha"] or None), match["rest"].strip()


def votes_from_comments(comments: Iterable[Mapping[str, Any]]) -> list[Vote]:
    """``/ml-ci approve <sha>`` and ``/ml-ci reject <sha> <reason>`` comments."""
    votes = []
    for comment in comments:
        parsed = parse_command(str(comment.get("body") or ""))
        login = (comment.get("user") or {}).get("login")
        if parsed is None or not login:
            continue
        action, sha, rest = parsed
        created = str(comment.get("created_at") or "")
        updated = str(comment.get("updated_at") or created)
        votes.append(
            Vote(
                actor=str(login),
                action=action,
                sha=sha.lower() if sha else None,
                at=created,
                via="comment",
                edited=updated != created,
                note=rest or None,
            )
        )
    return votes


def governance_required(
    config: GovernanceConfig, *, needs_human: bool, inconclusive_let_pass: bool
) -> bool:
    """Does this release need approval? ``always`` / ``never``, or ``flagged``: only when
    drift was significant or an inconclusive gate was let pass."""
    if config.require == "always":
        return True
    if config.require == "never":
        return False
    return needs_human or inconclusive_let_pass


def inconclusive_let_pass(record: EvaluationRecord, inconclusive: str) -> bool:
    """An inconclusive gate that the config lets through (governance ``flagged`` trigger)."""
    if record.compare is None or inconclusive == "fail":
        return False
    return any(g.verdict == "inconclusive" for g in record.compare.gates)


def has_permission(permission: str | None, minimum: str) -> bool:
    """``permission`` is at least ``minimum`` in GitHub's role order (unknown: no)."""
    return ROLE_RANK.get(permission or "", -1) >= ROLE_RANK[minimum]


def is_listed(actor: str, config: GovernanceConfig) -> bool:
    return actor.lower() in {name.lower() for name in config.approvers}


def may_approve(
    actor: str,
    config: GovernanceConfig,
    permission: str | None,
    active_teams: Iterable[str],
) -> bool:
    """Rule 4: ``min_permission`` or more, and listed or an active member of a listed team."""
    if not has_permission(permission, config.min_permission):
        return False
    if not config.approvers and not config.teams:
        return True
    return is_listed(actor, config) or bool(set(active_teams) & set(config.teams))


def why_not(
    vote: Vote,
    *,
    head_sha: str,
    author: str | None,
    config: GovernanceConfig,
    permission: str | None,
    active_teams: Iterable[str],
) -> str | None:
    """Why ``vote`` does not count (``None``: it counts). The rules of the module doc."""
    line = f"'/ml-ci {vote.action} {head_sha}'"
    if vote.sha is None:
        return f"the comment must name the commit: {line}"
    if len(vote.sha) != FULL_SHA:
        return (
            f"{vote.sha} is not a full 40-character SHA (a shorter prefix can be brute-forced "
            f"onto another commit in seconds): {line}"
        )
    if vote.sha.lower() != head_sha.lower():
        return f"given for {vote.sha[:7]}, the head is now {head_sha[:7]} (a push voids approvals)"
    if vote.edited:
        return "the comment was edited after it was posted; post a new one"
    if author and vote.actor.lower() == author.lower() and not config.self_approval:
        return "the pull request's author cannot approve it (governance.self_approval is false)"
    if not may_approve(vote.actor, config, permission, active_teams):
        shown = permission or "no"
        return (
            f"{vote.actor} may not approve ({shown} permission; needs {config.min_permission} "
            "or higher (governance.min_permission) and a listing in governance.approvers or "
            "membership of a governance.teams team)"
        )
    return None


def evaluate(
    votes: Iterable[Vote],
    *,
    head_sha: str,
    author: str | None,
    config: GovernanceConfig,
    required: bool,
    permissions: Mapping[str, str | None],
    teams: Mapping[str, Iterable[str]],
) -> Outcome:
    """Apply the rules to every vote; ``permissions``/``teams`` are per actor (from the API)."""
    ordered = sorted(votes, key=lambda v: v.at)
    reasons = [
        why_not(
            vote,
            head_sha=head_sha,
            author=author,
            config=config,
            permission=permissions.get(vote.actor),
            active_teams=teams.get(vote.actor, ()),
        )
        for vote in ordered
    ]
    # per actor, the latest counted vote stands; earlier counted ones are superseded
    standing: dict[str, int] = {}
    for index, (vote, reason) in enumerate(zip(ordered, reasons, strict=True)):
        if reason is None:
            standing[vote.actor.lower()] = index
    decisions = []
    for index, (vote, reason) in enumerate(zip(ordered, reasons, strict=True)):
        if reason is None and standing[vote.actor.lower()] != index:
            reason = "superseded by a later decision of the same person"
        if reason is None and vote.action == "reject" and vote.note:
            shown: str | None = f"rejected: {vote.note}"
        else:
            shown = reason
        decisions.append(
            Decision(
                actor=vote.actor,
                action=vote.action,
                sha=vote.sha or "",
                at=vote.at,
                via=vote.via,
                counted=reason is None,
                reason=shown,
            )
        )
    final = [ordered[i] for i in sorted(standing.values())]
    approved = [v.actor for v in final if v.action == "approve"]
    rejected = [v.actor for v in final if v.action == "reject"]
    satisfied = not required or (not rejected and len(approved) >= config.required_approvals)
    return Outcome(required, satisfied, decisions, approved, rejected, head_sha=head_sha)


def votes_from_cli(approved_by: Iterable[str], head_sha: str, at: str) -> list[Vote]:
    """Approvals given offline (``--approved-by alice``) for ``head_sha``.

    Offline there is no API to ask: the listed names are checked against the config only
    (see :func:`offline_permissions`), so this is for demos and local use, never CI.
    """
    return [Vote(name, "approve", head_sha, at, "cli") for name in approved_by if name]


def offline_permissions(names: Iterable[str], config: GovernanceConfig) -> dict[str, str | None]:
    """Offline stand-in for the permission API: listed approvers (or anyone, when no list
    is configured) are taken as having write permission; team membership cannot be checked."""
    listed = {name.lower() for name in config.approvers}
    open_to_all = not config.approvers and not config.teams
    return {name: ("write" if open_to_all or name.lower() in listed else None) for name in names}


def _repo_path(path: str) -> str:
    """One spelling per file: ``./a//b/../c.yaml`` is ``a/c.yaml`` (as git lists it)."""
    return posixpath.normpath(path.replace("\\", "/"))


def governed_files(config_file: str, base: GovernanceConfig | None) -> list[tuple[str, str]]:
    """``(repository path, what it is)`` of every file whose change needs a governance
    approval: the config, and the files the BASE's config names (``governance.catalog``,
    ``governance.model_card``). A pull request that renames them changes the config, so the
    keys are always the base's: the rule a pull request is judged by cannot be its own."""
    files = [(_repo_path(config_file), "the ml-ci config")]
    if base is not None:
        for key, value in (("catalog", base.catalog), ("model_card", base.model_card)):
            if value and _repo_path(value) not in {path for path, _ in files}:
                files.append((_repo_path(value), f"governance.{key}"))
    return files


def governed_changes(
    config_file: str, base: GovernanceConfig | None, changed: Iterable[str]
) -> list[tuple[str, str]]:
    """The :func:`governed_files` among ``changed`` (the paths that differ between the base
    and the evaluated commit: the pull request's files, or ``git diff P M`` at release)."""
    touched = {_repo_path(path) for path in changed}
    return [(path, what) for path, what in governed_files(config_file, base) if path in touched]


def describe_changes(changes: Iterable[tuple[str, str]]) -> str:
    """``ml-ci.yaml (the ml-ci config), data/catalog.yaml (governance.catalog)``."""
    return ", ".join(f"{path} ({what})" for path, what in changes)
