"""The GitHub side of governance: fetch votes and permissions, then apply the pure rules.

Permissions come from the API, never from ``author_association``:
``GET /repos/{repo}/collaborators/{user}/permission`` (``role_name``: admin, maintain,
write, triage, read) and ``GET /orgs/{org}/teams/{team}/memberships/{user}``
(``state: active``).

Team memberships are looked up last and only when they could change the verdict: the
default ``GITHUB_TOKEN`` cannot read them (GitHub answers 403, or 404 for a secret team),
so a pull request that a listed approver already settled must not fail on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ml_ci.config.governance import GovernanceConfig
from ml_ci.errors import InputError
from ml_ci.github.client import Forbidden, GitHubClient, NotFound
from ml_ci.governance.rules import (
    Outcome,
    Vote,
    evaluate,
    has_permission,
    is_listed,
    votes_from_comments,
    votes_from_reviews,
)

TEAM_TOKEN_HELP = (
    "governance.teams: the token cannot read the members of {team} ({status}); team "
    "approvers need a classic token with the read:org scope, or a GitHub App / fine-grained "
    'token with the organization permission "Members: read" (the default GITHUB_TOKEN has '
    "neither): pass it to approve-status as GITHUB_TOKEN, or list the approvers in "
    "governance.approvers"
)


@dataclass(frozen=True)
class PullInfo:
    """What governance and release need to know about a pull request."""

    repo: str
    number: int
    head_sha: str
    author: str | None
    head_repo: str | None
    base_repo: str | None
    labels: tuple[str, ...]
    merged: bool
    merge_commit_sha: str | None

    @property
    def is_fork(self) -> bool:
        return bool(self.head_repo) and self.head_repo != self.base_repo


def pull_info(body: dict[str, Any], repo: str) -> PullInfo:
    """A :class:`PullInfo` from a ``GET /repos/{repo}/pulls/{n}`` body."""
    head = body.get("head") or {}
    base = body.get("base") or {}
    return PullInfo(
        repo=repo,
        number=int(body["number"]),
        head_sha=str(head.get("sha") or ""),
        author=(body.get("user") or {}).get("login"),
        # a deleted fork has head.repo null: treat it as a fork (not the base repository)
        head_repo=(head.get("repo") or {}).get("full_name") or "(deleted fork)",
        base_repo=(base.get("repo") or {}).get("full_name") or repo,
        labels=tuple(str(label.get("name")) for label in body.get("labels") or []),
        merged=bool(body.get("merged") or body.get("merged_at")),
        merge_commit_sha=body.get("merge_commit_sha"),
    )


def get_pull(client: GitHubClient, repo: str, number: int) -> PullInfo:
    return pull_info(client.get_json(f"/repos/{repo}/pulls/{number}"), repo)


def changed_files(client: GitHubClient, repo: str, number: int) -> list[str]:
    """Paths the pull request changes (GitHub lists up to 3,000); a renamed file counts under
    both names (moving a governed file away changes it)."""
    paths = []
    for entry in client.paginate(f"/repos/{repo}/pulls/{number}/files", {"per_page": 100}):
        paths.append(str(entry["filename"]))
        if entry.get("previous_filename"):
            paths.append(str(entry["previous_filename"]))
    return paths


def merged_pull_for_commit(client: GitHubClient, repo: str, sha: str) -> PullInfo | None:
    """The merged pull request whose merge produced ``sha`` (``GET …/commits/{sha}/pulls``)."""
    candidates = list(client.paginate(f"/repos/{repo}/commits/{sha}/pulls"))
    merged = [p for p in candidates if p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    chosen = (exact or merged or [None])[0]
    if chosen is None:
        return None
    return get_pull(client, repo, int(chosen["number"]))


def permission(client: GitHubClient, repo: str, user: str) -> str | None:
    """The user's role on ``repo`` (admin/maintain/write/triage/read), ``None`` if unknown."""
    try:
        body = client.get_json(f"/repos/{repo}/collaborators/{user}/permission")
    except NotFound:
        return None
    role = body.get("role_name") or body.get("permission")
    return str(role) if role else None


def active_teams(
    client: GitHubClient, teams: list[str], user: str, visible: dict[str, bool] | None = None
) -> list[str]:
    """The ``org/team`` entries of ``teams`` where ``user`` is an active member.

    A 404 means "not a member" only if the token can see the team (a secret team answers
    404 too), so the team is checked once (``visible`` caches it); a 403 or an invisible
    team raises :class:`InputError` saying which token permission is missing.
    """
    seen = {} if visible is None else visible
    found = []
    for entry in teams:
        org, _, team = entry.partition("/")
        if not team:
            raise InputError(f"governance.teams: {entry!r} is not org/team; fix ml-ci.yaml")
        try:
            body = client.get_json(f"/orgs/{org}/teams/{team}/memberships/{user}")
        except Forbidden:
            raise InputError(TEAM_TOKEN_HELP.format(team=entry, status=403)) from None
        except NotFound:
            if entry not in seen:
                try:
                    client.get_json(f"/orgs/{org}/teams/{team}/members", {"per_page": 1})
                except (Forbidden, NotFound) as error:
                    raise InputError(
                        TEAM_TOKEN_HELP.format(team=entry, status=error.status)
                    ) from None
                seen[entry] = True
            continue
        if body.get("state") == "active":
            found.append(entry)
    return found


def fetch_votes(client: GitHubClient, pull: PullInfo) -> list[Vote]:
    """Every review and ``/ml-ci`` comment on the pull request (all pages)."""
    base = f"/repos/{pull.repo}"
    reviews = list(client.paginate(f"{base}/pulls/{pull.number}/reviews"))
    comments = list(client.paginate(f"{base}/issues/{pull.number}/comments"))
    return votes_from_reviews(reviews) + votes_from_comments(comments)


def evaluate_pull(
    client: GitHubClient, pull: PullInfo, config: GovernanceConfig, *, required: bool
) -> Outcome:
    """Fetch votes and each voter's permission, apply the rules; team memberships are
    fetched only for voters they could make count, and only when that could change the
    verdict (see :func:`_team_lookup_needed`)."""
    votes = fetch_votes(client, pull)
    actors = sorted({vote.actor for vote in votes})
    permissions = {actor: permission(client, pull.repo, actor) for actor in actors}

    def run(teams: dict[str, list[str]]) -> Outcome:
        return evaluate(
            votes,
            head_sha=pull.head_sha,
            author=pull.author,
            config=config,
            required=required,
            permissions=permissions,
            teams=teams,
        )

    direct = run({})
    if not config.teams:
        return direct
    # voters only a team could make count: not listed, but with enough permission
    candidates = [
        actor
        for actor in actors
        if not is_listed(actor, config)
        and has_permission(permissions[actor], config.min_permission)
    ]
    optimistic = run({actor: list(config.teams) for actor in candidates})
    if not _team_lookup_needed(direct, optimistic, candidates):
        return direct
    visible: dict[str, bool] = {}
    return run({actor: active_teams(client, config.teams, actor, visible) for actor in candidates})


def _team_lookup_needed(direct: Outcome, optimistic: Outcome, candidates: list[str]) -> bool:
    """Could some set of candidates being team members change the verdict of ``direct``?

    ``optimistic`` assumes all of them are. Both satisfied: no member's vote can undo it
    (a standing rejection would show in ``optimistic``). Neither satisfied and no candidate
    approval stands in ``optimistic``: members can only add rejections.
    """
    if direct.satisfied and optimistic.satisfied:
        return False
    if not direct.satisfied and not optimistic.satisfied:
        return bool(set(optimistic.approved_by) & set(candidates))
    return True
