"""A fake GitHub REST API on 127.0.0.1 that checks every request against GitHub's OpenAPI.

State lives in memory (repos, pull requests, issues, comments, reviews, statuses, refs, tags,
releases, assets, collaborators, teams, dispatches). Every request is validated against the
spec subset; a request that does not conform gets a 4xx and is recorded in ``violations``.
Every 2xx answer is validated too (a bug in the fake is also a violation). Faults (5xx,
timeouts, rate limits, lost answers) are injected at random with a seed or scripted.

See README.md in this folder for the API tests use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakegithub import spec

MAX_COMMENT_CHARS = 65_536
MAX_STATUS_DESCRIPTION = 140
FAULT_KINDS = ("500", "502", "timeout", "429", "secondary", "primary", "lost")
ALL_FAULT_KINDS = (*FAULT_KINDS, "422")
DOCS = "https://docs.github.com/rest"
NOT_ACCESSIBLE = "Resource not accessible by integration"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class _Answer(Exception):
    """Raised by a handler to answer with an error status and a GitHub-shaped body."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            self.body["errors"] = errors
        self.body["status"] = str(status)


def _validation_failed(
    resource: str, field_name: str, code: str, message: str | None = None
) -> _Answer:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field_name}
    if message:
        error["message"] = message
    return _Answer(422, "Validation Failed", [error])


@dataclass
class Token:
    login: str
    app: bool = False  # an installation token (GITHUB_TOKEN): GET /user answers 403
    read_only: bool = False  # a fork's pull_request token: every write answers 403
    # GITHUB_TOKEN has no organization permissions: team endpoints answer 403 to an app
    # token unless it was granted "Members: read" (a GitHub App installation token)
    org_members: bool = False


@dataclass
class Recorded:
    """One request as the server saw it (the token is replaced by its login)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None = None
    login: str | None = None
    fault: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case, without authorization


@dataclass
class FaultPlan:
    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    script: list[str | None] = field(default_factory=list)
    method: str | None = None
    match: str | None = None
    rng: random.Random = field(default_factory=random.Random)

    def pick(self, method: str, path: str) -> str | None:
        if self.method and method.upper() != self.method.upper():
            return None
        if self.match and not re.search(self.match, path):
            return None
        if self.script:
            return self.script.pop(0)
        if self.rate > 0 and self.rng.random() < self.rate:
            return self.rng.choice(self.kinds)
        return None


@dataclass
class Repo:
    full_name: str
    id: int
    default_branch: str = "main"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    pull_commits: dict[int, list[str]] = field(default_factory=dict)
    # a name, or (previous name, name) for a rename
    pull_files: dict[int, list[str | tuple[str, str]]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    comment_issue: dict[int, int] = field(default_factory=dict)
    reactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    assets: dict[int, dict[str, Any]] = field(default_factory=dict)
    asset_data: dict[int, bytes] = field(default_factory=dict)
    asset_release: dict[int, int] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    deployment_statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    next_number: int = 1


Route = tuple[str, re.Pattern[str], Callable[..., Any]]


class FakeGitHub:
    """The server and its state. Start with :meth:`start`, stop with :meth:`stop`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        server_url: str = "https://github.com",
        timeout_sleep: float = 1.0,
        retry_after: int = 1,
    ) -> None:
        self.host = host
        self.port = port
        self.prefix = prefix.rstrip("/")
        self.server_url = server_url
        self.timeout_sleep = timeout_sleep
        self.retry_after = retry_after
        self.lock = threading.RLock()
        self.tokens: dict[str, Token] = {}
        self.users: dict[str, int] = {}
        self.repos: dict[str, Repo] = {}
        self.teams: dict[tuple[str, str], dict[str, str]] = {}
        self.violations: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self._plan = FaultPlan()
        self._ids = 1000
        self._ticks = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[Route] = self._build_routes()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """Base URL of the API (what GITHUB_API_URL would be)."""
        if self._httpd is None:
            raise RuntimeError("fake GitHub is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}{self.prefix}"

    def start(self) -> FakeGitHub:
        spec.openapi()  # parse once, before the first request
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = _QuietServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # ------------------------------------------------------------------ state set-up
    def _next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def _now(self) -> str:
        """A virtual clock: one second per write, so created/updated times are ordered."""
        with self.lock:
            self._ticks += 1
            moment = EPOCH + timedelta(seconds=self._ticks)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_token(
        self,
        token: str,
        login: str,
        *,
        app: bool = False,
        read_only: bool = False,
        org_members: bool = False,
    ) -> None:
        """``Authorization: Bearer <token>`` (or ``token <token>``) acts as ``login``.
        ``org_members``: an app token that may read team memberships."""
        with self.lock:
            self.tokens[token] = Token(login, app=app, read_only=read_only, org_members=org_members)
            self._user_id(login)

    def _user_id(self, login: str) -> int:
        with self.lock:
            if login not in self.users:
                self.users[login] = 5000 + len(self.users)
            return self.users[login]

    def add_repo(self, full_name: str, *, default_branch: str = "main") -> Repo:
        with self.lock:
            if full_name not in self.repos:
                self.repos[full_name] = Repo(full_name, self._next_id(), default_branch)
                self._user_id(full_name.split("/")[0])
            return self.repos[full_name]

    def add_pull(
        self,
        repo: str,
        number: int | None = None,
        head_sha: str = "0" * 40,
        user: str = "octocat",
        *,
        base: str = "main",
        head_ref: str = "feature",
        base_sha: str = "1" * 40,
        title: str = "A pull request",
        body: str | None = None,
        state: str = "open",
        merged: bool = False,
        labels: Iterable[str] = (),
        draft: bool = False,
        commits: Iterable[str] | None = None,
        files: Iterable[str | tuple[str, str]] = (),
    ) -> dict[str, Any]:
        """Add (or replace) pull request ``number`` in ``repo`` (created if missing)."""
        with self.lock:
            state_repo = self.add_repo(repo)
            if number is None:
                number = state_repo.next_number
            state_repo.next_number = max(state_repo.next_number, number + 1)
            pull = self._pull_body(state_repo, number, head_sha, user, base, head_ref, base_sha)
            pull.update(
                title=title,
                body=body,
                state="closed" if merged else state,
                draft=draft,
                merged=merged,
                labels=[self._label(name) for name in labels],
            )
            if merged:
                pull["merged_at"] = pull["closed_at"] = self._now()
                pull["merge_commit_sha"] = head_sha
            state_repo.pulls[number] = pull
            state_repo.pull_commits[number] = list(commits) if commits is not None else [head_sha]
            state_repo.pull_files[number] = list(files)
            return pull

    def add_issue(
        self,
        repo: str,
        title: str,
        *,
        user: str = "octocat",
        labels: Iterable[str] = (),
        body: str | None = None,
        state: str = "open",
    ) -> dict[str, Any]:
        with self.lock:
            state_repo = self.add_repo(repo)
            number = state_repo.next_number
            state_repo.next_number += 1
            issue = self._issue_body(state_repo, number, title, body, user, list(labels))
            issue["state"] = state
            state_repo.issues[number] = issue
            return issue

    def add_comment(self, repo: str, number: int, body: str, user: str) -> dict[str, Any]:
        """A comment by ``user`` on issue/pull ``number`` (e.g. someone else's)."""
        with self.lock:
            return self._create_comment(self.add_repo(repo), number, body, user)

    def add_review(
        self,
        repo: str,
        number: int,
        user: str,
        state: str = "APPROVED",
        *,
        commit_id: str | None = None,
        body: str = "",
    ) -> dict[str, Any]:
        """A submitted review (state APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED)."""
        with self.lock:
            state_repo = self.add_repo(repo)
            pull = state_repo.pulls[number]
            return self._create_review(
                state_repo, number, user, state, commit_id or pull["head"]["sha"], body
            )

    def merge_pull(self, repo: str, number: int, merge_commit_sha: str) -> dict[str, Any]:
        """Pull request ``number`` merged as ``merge_commit_sha`` (what the merge button leaves:
        closed, ``merged_at``, ``merge_commit_sha`` = the merge commit on the base branch,
        matched by ``/commits/{sha}/pulls``)."""
        with self.lock:
            pull = self.repos[repo].pulls[number]
            pull.update(state="closed", merged=True, merge_commit_sha=merge_commit_sha)
            pull["merged_at"] = pull["closed_at"] = pull["updated_at"] = self._now()
            return dict(pull)

    def add_collaborator(self, repo: str, login: str, permission: str = "write") -> None:
        """permission: admin, maintain, write, triage or read."""
        with self.lock:
            self.add_repo(repo).collaborators[login] = permission
            self._user_id(login)

    def add_team_member(self, org: str, team: str, login: str, role: str = "member") -> None:
        with self.lock:
            self.teams.setdefault((org, team), {})[login] = role
            self._user_id(login)

    def add_ref(self, repo: str, ref: str, sha: str) -> None:
        """``ref`` is the full name, e.g. ``refs/tags/model@v1.0.0``."""
        with self.lock:
            self.add_repo(repo).refs[ref] = sha

    # ------------------------------------------------------------------ inspection
    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            state_repo = self.repos[repo]
            return [
                dict(c)
                for cid, c in sorted(state_repo.comments.items())
                if state_repo.comment_issue[cid] == number
            ]

    def statuses(self, repo: str, sha: str) -> list[dict[str, Any]]:
        """Statuses of ``sha``, newest first (as GitHub lists them)."""
        with self.lock:
            return list(reversed(self.repos[repo].statuses.get(sha, [])))

    def refs(self, repo: str) -> dict[str, str]:
        with self.lock:
            return dict(self.repos[repo].refs)

    def releases(self, repo: str) -> list[dict[str, Any]]:
        with self.lock:
            state_repo = self.repos[repo]
            return [self._release_view(state_repo, r) for r in state_repo.releases.values()]

    def asset_bytes(self, repo: str, asset_id: int) -> bytes:
        with self.lock:
            return self.repos[repo].asset_data[asset_id]

    def issues(self, repo: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(i) for _, i in sorted(self.repos[repo].issues.items())]

    def deployments(self, repo: str) -> list[dict[str, Any]]:
        """Every deployment, oldest first, each with its ``statuses`` (oldest first)."""
        with self.lock:
            state_repo = self.repos[repo]
            return [
                {**d, "statuses": [dict(x) for x in state_repo.deployment_statuses.get(i, [])]}
                for i, d in sorted(state_repo.deployments.items())
            ]

    def dispatches(self, repo: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.repos[repo].dispatches)

    def pull(self, repo: str, number: int) -> dict[str, Any]:
        with self.lock:
            return dict(self.repos[repo].pulls[number])

    def faults(
        self,
        *,
        rate: float = 0.0,
        kinds: Iterable[str] = FAULT_KINDS,
        seed: int = 0,
        script: Iterable[str | None] = (),
        method: str | None = None,
        match: str | None = None,
    ) -> None:
        """Inject faults: on a ``rate`` share of requests (seeded), or per request by ``script``.

        ``script`` entries apply to successive matching requests (``None`` = no fault); after
        it runs out, ``rate`` applies. ``method``/``match`` (a regex on the path) narrow which
        requests are eligible. Kinds: 500, 502, timeout, 429, secondary, primary, lost, 422.
        """
        kinds = tuple(kinds)
        unknown = set(kinds) | {k for k in script if k is not None}
        unknown -= set(ALL_FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        with self.lock:
            self._plan = FaultPlan(
                rate=rate,
                kinds=kinds,
                seed=seed,
                script=list(script),
                method=method,
                match=match,
                rng=random.Random(seed),
            )

    def clear_faults(self) -> None:
        self.faults()

    def dump_state(self) -> dict[str, Any]:
        """Everything a test may want to look at, as JSON-able data."""
        with self.lock:
            repos = {}
            for name, r in self.repos.items():
                repos[name] = {
                    "pulls": {str(n): p for n, p in r.pulls.items()},
                    "issues": {str(n): i for n, i in r.issues.items()},
                    "comments": [
                        dict(c, issue_number=r.comment_issue[cid])
                        for cid, c in sorted(r.comments.items())
                    ],
                    "reviews": {str(n): v for n, v in r.reviews.items()},
                    "statuses": r.statuses,
                    "collaborators": r.collaborators,
                    "refs": r.refs,
                    "releases": [self._release_view(r, rel) for rel in r.releases.values()],
                    "dispatches": r.dispatches,
                    "deployments": [
                        {**d, "statuses": r.deployment_statuses.get(i, [])}
                        for i, d in sorted(r.deployments.items())
                    ],
                }
            return {
                "repos": repos,
                "teams": {f"{o}/{t}": m for (o, t), m in self.teams.items()},
                "violations": self.violations,
            }

    def load_state(self, data: dict[str, Any]) -> None:
        """Set up from JSON (the standalone server's ``--state`` file); see README.md."""
        for token, who in data.get("tokens", {}).items():
            if isinstance(who, str):
                self.add_token(token, who)
            else:
                self.add_token(
                    token,
                    who["login"],
                    app=who.get("app", False),
                    read_only=who.get("read_only", False),
                    org_members=who.get("org_members", False),
                )
        for name, repo in data.get("repos", {}).items():
            self.add_repo(name, default_branch=repo.get("default_branch", "main"))
            for pull in repo.get("pulls", []):
                pull = dict(pull)
                self.add_pull(
                    name,
                    pull.pop("number"),
                    pull.pop("head_sha", "0" * 40),
                    pull.pop("user", "octocat"),
                    **pull,
                )
            for login, permission in repo.get("collaborators", {}).items():
                self.add_collaborator(name, login, permission)
            for ref, sha in repo.get("refs", {}).items():
                self.add_ref(name, ref, sha)
            for comment in repo.get("comments", []):
                self.add_comment(name, comment["number"], comment["body"], comment["user"])
            for issue in repo.get("issues", []):
                issue = dict(issue)
                self.add_issue(name, issue.pop("title"), **issue)
            for review in repo.get("reviews", []):
                review = dict(review)
                self.add_review(name, review.pop("number"), review.pop("user"), **review)
        for team, members in data.get("teams", {}).items():
            org, slug = team.split("/", 1)
            for login in members:
                self.add_team_member(org, slug, login)
        if "faults" in data:
            self.faults(**data["faults"])

    # ------------------------------------------------------------------ body builders
    def _api(self, path: str) -> str:
        return self.url + path

    def _user(self, login: str) -> dict[str, Any]:
        user: dict[str, Any] = spec.example("issue-comment")["user"]
        for key, value in list(user.items()):
            if isinstance(value, str):
                user[key] = value.replace("octocat", login).replace(
                    "https://api.github.com", self.url
                )
        user["id"] = self._user_id(login)
        user["node_id"] = f"U_{user['id']}"
        user["type"] = "Bot" if login.endswith("[bot]") else "User"
        return user

    def _label(self, name: str) -> dict[str, Any]:
        label: dict[str, Any] = spec.example("label-items")[0]
        label.update(
            name=name,
            id=int(hashlib.sha1(name.encode()).hexdigest()[:6], 16),
            description="",  # pull-request-simple types it as a non-null string
            default=False,
        )
        return label

    def _rewrite(self, value: Any, repo: str) -> Any:
        """GitHub's examples point at octocat/Hello-World on api.github.com: point them here."""
        if isinstance(value, str):
            return (
                value.replace("https://api.github.com", self.url)
                .replace("https://github.com", self.server_url)
                .replace("octocat/Hello-World", repo)
            )
        if isinstance(value, list):
            return [self._rewrite(v, repo) for v in value]
        if isinstance(value, dict):
            return {k: self._rewrite(v, repo) for k, v in value.items()}
        return value

    def _pull_body(
        self,
        repo: Repo,
        number: int,
        head_sha: str,
        user: str,
        base: str,
        head_ref: str,
        base_sha: str,
    ) -> dict[str, Any]:
        pull: dict[str, Any] = self._rewrite(spec.example("pull-request"), repo.full_name)
        api = self._api(f"/repos/{repo.full_name}")
        pull.update(
            id=self._next_id(),
            number=number,
            user=self._user(user),
            url=f"{api}/pulls/{number}",
            html_url=f"{self.server_url}/{repo.full_name}/pull/{number}",
            issue_url=f"{api}/issues/{number}",
            comments_url=f"{api}/issues/{number}/comments",
            created_at=self._now(),
            closed_at=None,
            merged_at=None,
            merged=False,
            assignee=None,
            assignees=[],
            requested_reviewers=[],
            requested_teams=[],
            milestone=None,
            auto_merge=None,
            mergeable=True,
        )
        pull["updated_at"] = pull["created_at"]
        pull["head"].update(
            sha=head_sha, ref=head_ref, label=f"{user}:{head_ref}", user=self._user(user)
        )
        pull["base"].update(sha=base_sha, ref=base)
        for side in ("head", "base"):
            pull[side]["repo"].update(
                full_name=repo.full_name, name=repo.full_name.split("/")[1], id=repo.id
            )
        return pull

    def _pull_simple(self, pull: dict[str, Any]) -> dict[str, Any]:
        allowed = spec.example("pull-request-simple-items")[0].keys()
        return {k: v for k, v in pull.items() if k in allowed}

    def _issue_body(
        self, repo: Repo, number: int, title: str, body: str | None, user: str, labels: list[str]
    ) -> dict[str, Any]:
        issue: dict[str, Any] = self._rewrite(spec.example("issue"), repo.full_name)
        api = self._api(f"/repos/{repo.full_name}")
        now = self._now()
        issue.update(
            id=self._next_id(),
            number=number,
            title=title,
            body=body,
            user=self._user(user),
            labels=[self._label(n) for n in labels],
            url=f"{api}/issues/{number}",
            html_url=f"{self.server_url}/{repo.full_name}/issues/{number}",
            comments_url=f"{api}/issues/{number}/comments",
            created_at=now,
            updated_at=now,
            closed_at=None,
            closed_by=None,
            assignee=None,
            assignees=[],
            milestone=None,
            comments=0,
            state="open",
            locked=False,
            author_association="MEMBER" if user in repo.collaborators else "NONE",
        )
        issue.pop("pull_request", None)
        return issue

    def _create_comment(self, repo: Repo, number: int, body: str, login: str) -> dict[str, Any]:
        comment: dict[str, Any] = self._rewrite(spec.example("issue-comment"), repo.full_name)
        cid = self._next_id()
        now = self._now()
        kind = "pull" if number in repo.pulls else "issues"
        comment.update(
            id=cid,
            node_id=f"IC_{cid}",
            body=body,
            user=self._user(login),
            created_at=now,
            updated_at=now,
            url=self._api(f"/repos/{repo.full_name}/issues/comments/{cid}"),
            html_url=f"{self.server_url}/{repo.full_name}/{kind}/{number}#issuecomment-{cid}",
            issue_url=self._api(f"/repos/{repo.full_name}/issues/{number}"),
            author_association="MEMBER" if login in repo.collaborators else "NONE",
        )
        repo.comments[cid] = comment
        repo.comment_issue[cid] = number
        return comment

    def _create_review(
        self, repo: Repo, number: int, login: str, state: str, commit_id: str, body: str
    ) -> dict[str, Any]:
        review: dict[str, Any] = self._rewrite(spec.example("pull-request-review"), repo.full_name)
        rid = self._next_id()
        review.update(
            id=rid,
            node_id=f"PRR_{rid}",
            user=self._user(login),
            body=body,
            state=state,
            commit_id=commit_id,
            submitted_at=self._now(),
            author_association="MEMBER" if login in repo.collaborators else "NONE",
        )
        repo.reviews.setdefault(number, []).append(review)
        return review

    def _release_view(self, repo: Repo, release: dict[str, Any]) -> dict[str, Any]:
        view = dict(release)
        view["assets"] = [
            repo.assets[a]
            for a, r in repo.asset_release.items()
            if r == release["id"] and a in repo.assets
        ]
        return view

    # ------------------------------------------------------------------ routing
    def _build_routes(self) -> list[Route]:
        r = "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", "/user", self._get_user),
            ("GET", "/rate_limit", self._rate_limit),
            (
                "GET",
                "/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/memberships/(?P<user>[^/]+)",
                self._get_membership,
            ),
            (
                "PUT",
                "/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/memberships/(?P<user>[^/]+)",
                self._put_membership,
            ),
            (
                "DELETE",
                "/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/memberships/(?P<user>[^/]+)",
                self._delete_membership,
            ),
            ("GET", "/orgs/(?P<org>[^/]+)/teams/(?P<team>[^/]+)/members", self._team_members),
            ("GET", r, self._get_repo),
            ("POST", r + "/actions/workflows/(?P<workflow>[^/]+)/dispatches", self._dispatch),
            ("POST", r + "/check-runs", self._create_check_run),
            ("GET", r + "/check-runs/(?P<id>\\d+)", self._get_check_run),
            ("PATCH", r + "/check-runs/(?P<id>\\d+)", self._update_check_run),
            ("GET", r + "/collaborators/(?P<user>[^/]+)/permission", self._permission),
            ("GET", r + "/commits/(?P<sha>[^/]+)/pulls", self._commit_pulls),
            ("GET", r + "/commits/(?P<ref>.+)/status", self._combined_status),
            ("GET", r + "/commits/(?P<ref>.+)/statuses", self._list_statuses),
            ("GET", r + "/git/matching-refs/(?P<ref>.*)", self._matching_refs),
            ("GET", r + "/git/ref/(?P<ref>.+)", self._get_ref),
            ("POST", r + "/git/refs", self._create_ref),
            ("PATCH", r + "/git/refs/(?P<ref>.+)", self._update_ref),
            ("DELETE", r + "/git/refs/(?P<ref>.+)", self._delete_ref),
            ("POST", r + "/git/tags", self._create_tag),
            ("GET", r + "/git/tags/(?P<sha>[^/]+)", self._get_tag),
            ("GET", r + "/issues", self._list_issues),
            ("POST", r + "/issues", self._create_issue),
            ("GET", r + "/issues/comments/(?P<id>\\d+)", self._get_comment),
            ("PATCH", r + "/issues/comments/(?P<id>\\d+)", self._update_comment),
            ("DELETE", r + "/issues/comments/(?P<id>\\d+)", self._delete_comment),
            ("GET", r + "/issues/comments/(?P<id>\\d+)/reactions", self._list_reactions),
            ("POST", r + "/issues/comments/(?P<id>\\d+)/reactions", self._add_reaction),
            ("GET", r + "/issues/(?P<number>\\d+)", self._get_issue),
            ("PATCH", r + "/issues/(?P<number>\\d+)", self._update_issue),
            ("GET", r + "/issues/(?P<number>\\d+)/comments", self._list_comments),
            ("POST", r + "/issues/(?P<number>\\d+)/comments", self._post_comment),
            ("GET", r + "/issues/(?P<number>\\d+)/labels", self._list_labels),
            ("POST", r + "/issues/(?P<number>\\d+)/labels", self._add_labels),
            ("GET", r + "/pulls", self._list_pulls),
            ("GET", r + "/pulls/(?P<number>\\d+)", self._get_pull),
            ("PATCH", r + "/pulls/(?P<number>\\d+)", self._update_pull),
            ("GET", r + "/pulls/(?P<number>\\d+)/commits", self._pull_commits),
            ("GET", r + "/pulls/(?P<number>\\d+)/files", self._pull_files),
            ("GET", r + "/pulls/(?P<number>\\d+)/reviews", self._list_reviews),
            ("POST", r + "/pulls/(?P<number>\\d+)/reviews", self._post_review),
            ("GET", r + "/releases", self._list_releases),
            ("POST", r + "/releases", self._create_release),
            ("GET", r + "/releases/assets/(?P<id>\\d+)", self._get_asset),
            ("DELETE", r + "/releases/assets/(?P<id>\\d+)", self._delete_asset),
            ("GET", r + "/releases/tags/(?P<tag>.+)", self._release_by_tag),
            ("GET", r + "/releases/(?P<id>\\d+)", self._get_release),
            ("PATCH", r + "/releases/(?P<id>\\d+)", self._update_release),
            ("DELETE", r + "/releases/(?P<id>\\d+)", self._delete_release),
            ("GET", r + "/releases/(?P<id>\\d+)/assets", self._list_assets),
            ("POST", r + "/releases/(?P<id>\\d+)/assets", self._upload_asset),
            ("POST", r + "/statuses/(?P<sha>[^/]+)", self._create_status),
            ("GET", r + "/deployments", self._list_deployments),
            ("POST", r + "/deployments", self._create_deployment),
            ("GET", r + "/deployments/(?P<id>\\d+)/statuses", self._list_deployment_statuses),
            ("POST", r + "/deployments/(?P<id>\\d+)/statuses", self._create_deployment_status),
        ]
        return [(m, re.compile(p + "$"), h) for m, p, h in table]

    def handle(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        raw: bytes,
    ) -> tuple[int, Any, dict[str, str], str | None]:
        """Validate, maybe fault, dispatch. Returns (status, body, headers, fault)."""
        login: str | None = None
        record = Recorded(method, path, dict(query), None)
        record.headers = {k: v for k, v in headers.items() if k != "authorization"}
        with self.lock:
            self.requests.append(record)
        if not path.startswith(self.prefix + "/"):
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}, None
        api_path = path[len(self.prefix) :]
        content_type = headers.get("content-type", "")
        is_upload = method == "POST" and api_path.endswith("/assets")
        body: Any = None
        if raw and not is_upload:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._violation(
                    record, "request", "body is not JSON", 400, "Problems parsing JSON"
                )
        record.body = body if not is_upload else f"<{len(raw)} bytes>"
        request = spec.make_request(method, api_path, query, headers, raw or None)
        problem = spec.validate_request(request)
        if problem:
            status = 404 if "PathNotFound" in problem or "OperationNotFound" in problem else 422
            return self._violation(
                record,
                "request",
                problem,
                status,
                "Not Found" if status == 404 else "Invalid request.",
            )
        auth = headers.get("authorization", "")
        token_value = auth.split(" ", 1)[1].strip() if " " in auth else ""
        token = self.tokens.get(token_value) if token_value else None
        if token_value and token is None:
            return self._finish(
                record,
                401,
                {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"},
                {},
                None,
            )
        login = token.login if token else None
        record.login = login
        with self.lock:
            fault = self._plan.pick(method, api_path)
        record.fault = fault
        if fault is not None and fault != "lost":
            return self._fault(record, fault)
        if method != "GET" and token is None:
            return self._finish(
                record,
                401,
                {"message": "Requires authentication", "documentation_url": DOCS, "status": "401"},
                {},
                fault,
            )
        if method != "GET" and token is not None and token.read_only:
            return self._finish(
                record,
                403,
                {"message": NOT_ACCESSIBLE, "documentation_url": DOCS, "status": "403"},
                {},
                fault,
            )
        for route_method, pattern, route_handler in self._routes:
            match = pattern.match(api_path)
            if match and route_method == method:
                handler = route_handler
                break
        else:
            return self._finish(
                record,
                404,
                {
                    "message": "Not Found (not implemented by the fake)",
                    "documentation_url": DOCS,
                    "status": "404",
                },
                {},
                fault,
            )
        params = match.groupdict()
        context = _Context(
            login=login,
            token=token,
            query=dict(query),
            body=body,
            raw=raw,
            headers=headers,
            content_type=content_type,
            path=api_path,
        )
        try:
            with self.lock:
                status, answer, extra = handler(context, **params)
        except _Answer as error:
            return self._finish(record, error.status, error.body, {}, fault)
        if 200 <= status < 300 and not isinstance(answer, bytes):
            # list items are built by the same code: the first and last stand for all (the
            # full check of 100 rich objects per page would take longer than client timeouts)
            sample = answer[:1] + answer[-1:] if isinstance(answer, list) and answer else answer
            problem = spec.validate_response(request, status, sample, extra)
            if problem:
                with self.lock:
                    self.violations.append(
                        {"kind": "response", "method": method, "path": api_path, "error": problem}
                    )
        return self._finish(record, status, answer, extra, fault)

    def _finish(
        self, record: Recorded, status: int, body: Any, headers: dict[str, str], fault: str | None
    ) -> tuple[int, Any, dict[str, str], str | None]:
        record.status = status
        return status, body, headers, fault

    def _violation(
        self, record: Recorded, kind: str, problem: str, status: int, message: str
    ) -> tuple[int, Any, dict[str, str], str | None]:
        with self.lock:
            self.violations.append(
                {
                    "kind": kind,
                    "method": record.method,
                    "path": record.path,
                    "query": record.query,
                    "error": problem,
                }
            )
        return self._finish(
            record,
            status,
            {"message": message, "documentation_url": DOCS, "status": str(status)},
            {},
            None,
        )

    def _fault(self, record: Recorded, fault: str) -> tuple[int, Any, dict[str, str], str | None]:
        after = str(self.retry_after)
        if fault in ("500", "502"):
            return self._finish(record, int(fault), {"message": "Server Error"}, {}, fault)
        if fault == "422":
            return self._finish(
                record,
                422,
                {
                    "message": "Validation Failed",
                    "documentation_url": DOCS,
                    "errors": [{"resource": "Fake", "code": "custom", "message": "injected"}],
                },
                {},
                fault,
            )
        if fault == "429":
            return self._finish(
                record, 429, {"message": "Too Many Requests"}, {"retry-after": after}, fault
            )
        if fault == "secondary":
            return self._finish(
                record,
                403,
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                    "before you try again.",
                    "documentation_url": DOCS,
                },
                {"retry-after": after},
                fault,
            )
        if fault == "primary":
            reset = int(time.time()) + self.retry_after
            return self._finish(
                record,
                403,
                {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS},
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                fault,
            )
        # timeout: the answer never comes (the handler sleeps, then drops the connection)
        record.status = None
        return 0, None, {}, fault

    # ------------------------------------------------------------------ handlers
    def _repo(self, owner: str, repo: str) -> Repo:
        found = self.repos.get(f"{owner}/{repo}")
        if found is None:
            raise _Answer(404, "Not Found")
        return found

    def _page(self, ctx: _Context, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        """Page ``items`` the way GitHub does: per_page (default 30, max 100), page, Link."""
        per_page = min(int(ctx.query.get("per_page", 30)), 100)
        page = max(int(ctx.query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            query = dict(ctx.query, per_page=str(per_page), page=str(number))
            return f'<{self.url}{ctx.path}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        return 200, chunk, ({"link": ", ".join(links)} if links else {})

    def _get_user(self, ctx: _Context) -> Any:
        if ctx.token is None:
            raise _Answer(401, "Requires authentication")
        if ctx.token.app:
            raise _Answer(403, NOT_ACCESSIBLE)
        user = self._rewrite(
            spec.example("private-user-response-with-public-and-private-profile-information"), ""
        )
        user.update(self._user(ctx.token.login), user_view_type="private")
        return 200, user, {}

    def _rate_limit(self, ctx: _Context) -> Any:
        return 200, spec.example("rate-limit-overview"), {}

    @staticmethod
    def _check_org_read(ctx: _Context) -> None:
        """GitHub answers 403 to an installation token without "Members: read" (e.g. the
        default GITHUB_TOKEN), whatever the team."""
        if ctx.token is not None and ctx.token.app and not ctx.token.org_members:
            raise _Answer(403, NOT_ACCESSIBLE)

    def _get_membership(self, ctx: _Context, org: str, team: str, user: str) -> Any:
        self._check_org_read(ctx)
        role = self.teams.get((org, team), {}).get(user)
        if role is None:
            raise _Answer(404, "Not Found")
        return (
            200,
            {
                "url": self._api(f"/orgs/{org}/teams/{team}/memberships/{user}"),
                "role": role,
                "state": "active",
            },
            {},
        )

    def _put_membership(self, ctx: _Context, org: str, team: str, user: str) -> Any:
        role = (ctx.body or {}).get("role", "member")
        self.teams.setdefault((org, team), {})[user] = role
        return (
            200,
            {
                "url": self._api(f"/orgs/{org}/teams/{team}/memberships/{user}"),
                "role": role,
                "state": "active",
            },
            {},
        )

    def _delete_membership(self, ctx: _Context, org: str, team: str, user: str) -> Any:
        self.teams.get((org, team), {}).pop(user, None)
        return 204, None, {}

    def _team_members(self, ctx: _Context, org: str, team: str) -> Any:
        self._check_org_read(ctx)
        if (org, team) not in self.teams:
            raise _Answer(404, "Not Found")
        return self._page(ctx, [self._user(u) for u in sorted(self.teams[(org, team)])])

    def _get_repo(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        body = self._rewrite(spec.example("full-repository-default-response"), state_repo.full_name)
        body.update(
            id=state_repo.id,
            name=repo,
            full_name=state_repo.full_name,
            default_branch=state_repo.default_branch,
            owner=self._user(owner),
        )
        body["language"] = "Python"
        for key in ("source", "parent", "template_repository"):  # only forks/templates have them
            body.pop(key, None)
        return 200, body, {}

    def _dispatch(self, ctx: _Context, owner: str, repo: str, workflow: str) -> Any:
        state_repo = self._repo(owner, repo)
        state_repo.dispatches.append(
            {
                "workflow": workflow,
                "ref": ctx.body["ref"],
                "inputs": ctx.body.get("inputs", {}),
                "by": ctx.login,
            }
        )
        return 204, None, {}

    def _create_check_run(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        run = self._rewrite(spec.example("check-run"), state_repo.full_name)
        run_id = self._next_id()
        run.update(
            id=run_id,
            name=ctx.body["name"],
            head_sha=ctx.body["head_sha"],
            status=ctx.body.get("status", "queued"),
            conclusion=ctx.body.get("conclusion"),
            started_at=self._now(),
            completed_at=ctx.body.get("completed_at"),
        )
        if "output" in ctx.body:
            run["output"].update(
                {k: ctx.body["output"].get(k) for k in ("title", "summary", "text")}
            )
        state_repo.check_runs[run_id] = run
        return 201, run, {}

    def _get_check_run(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        run = self._repo(owner, repo).check_runs.get(int(id))
        if run is None:
            raise _Answer(404, "Not Found")
        return 200, run, {}

    def _update_check_run(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        run = self._repo(owner, repo).check_runs.get(int(id))
        if run is None:
            raise _Answer(404, "Not Found")
        for key in ("name", "status", "conclusion", "completed_at"):
            if key in ctx.body:
                run[key] = ctx.body[key]
        return 200, run, {}

    def _permission(self, ctx: _Context, owner: str, repo: str, user: str) -> Any:
        state_repo = self._repo(owner, repo)
        role = state_repo.collaborators.get(user)
        if role is None and user not in self.users:
            raise _Answer(404, f"{user} is not a user")
        role = role or "none"
        permission = {"maintain": "write", "triage": "read"}.get(role, role)
        body = {"permission": permission, "role_name": role, "user": self._user(user)}
        body["user"]["role_name"] = role
        body["user"]["permissions"] = {
            "admin": role == "admin",
            "maintain": role in ("admin", "maintain"),
            "push": role in ("admin", "maintain", "write"),
            "triage": role in ("admin", "maintain", "write", "triage"),
            "pull": role != "none",
        }
        return 200, body, {}

    def _commit_pulls(self, ctx: _Context, owner: str, repo: str, sha: str) -> Any:
        state_repo = self._repo(owner, repo)
        pulls = [
            self._pull_simple(p)
            for n, p in sorted(state_repo.pulls.items())
            if sha in state_repo.pull_commits[n] or p.get("merge_commit_sha") == sha
        ]
        return self._page(ctx, pulls)

    def _statuses_for(self, state_repo: Repo, ref: str) -> list[dict[str, Any]]:
        sha = state_repo.refs.get(f"refs/heads/{ref}", state_repo.refs.get(f"refs/tags/{ref}", ref))
        return list(reversed(state_repo.statuses.get(sha, [])))

    def _combined_status(self, ctx: _Context, owner: str, repo: str, ref: str) -> Any:
        state_repo = self._repo(owner, repo)
        latest: dict[str, dict[str, Any]] = {}
        for status in self._statuses_for(state_repo, ref):
            latest.setdefault(status["context"], status)
        states = [s["state"] for s in latest.values()]
        if any(s in ("error", "failure") for s in states):
            combined = "failure"
        elif states and all(s == "success" for s in states):
            combined = "success"
        else:
            combined = "pending"
        body = self._rewrite(spec.example("combined-commit-status"), state_repo.full_name)
        body.update(
            state=combined,
            sha=ref,
            total_count=len(latest),
            statuses=[{k: v for k, v in s.items() if k != "creator"} for s in latest.values()],
        )
        return 200, body, {}

    def _list_statuses(self, ctx: _Context, owner: str, repo: str, ref: str) -> Any:
        return self._page(ctx, self._statuses_for(self._repo(owner, repo), ref))

    def _create_status(self, ctx: _Context, owner: str, repo: str, sha: str) -> Any:
        state_repo = self._repo(owner, repo)
        description = ctx.body.get("description")
        if description is not None and len(description) > MAX_STATUS_DESCRIPTION:
            raise _validation_failed(
                "Status",
                "description",
                "custom",
                "description is too long (maximum is 140 characters)",
            )
        status = self._rewrite(spec.example("status"), state_repo.full_name)
        sid = self._next_id()
        now = self._now()
        status.update(
            id=sid,
            node_id=f"SC_{sid}",
            state=ctx.body["state"],
            description=description,
            target_url=ctx.body.get("target_url"),
            context=ctx.body.get("context", "default"),
            created_at=now,
            updated_at=now,
            creator=self._user(ctx.login or "ghost"),
            url=self._api(f"/repos/{state_repo.full_name}/statuses/{sha}"),
        )
        state_repo.statuses.setdefault(sha, []).append(status)
        return 201, status, {}

    # --- deployments (GitHub's semantics: auto_merge and required_contexts default to on)
    def _create_deployment(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        ref = ctx.body["ref"]
        if ctx.body.get("auto_merge", True) is not False:
            # GitHub merges the default branch into the ref first; a tag of an older commit
            # cannot take a merge: 409
            raise _Answer(409, f"Conflict merging {state_repo.default_branch} into {ref}.")
        if ctx.body.get("required_contexts") != []:
            raise _Answer(409, f"Conflict: Commit status checks failed for {ref}.")
        deployment = self._rewrite(spec.example("deployment-simple-example"), state_repo.full_name)
        did = self._next_id()
        now = self._now()
        sha = state_repo.refs.get(f"refs/tags/{ref}") or state_repo.refs.get(f"refs/heads/{ref}")
        deployment.update(
            id=did,
            node_id=f"DE_{did}",
            ref=ref,
            sha=sha or (ref if re.fullmatch(r"[0-9a-f]{40}", ref) else "0" * 40),
            task=ctx.body.get("task", "deploy"),
            payload=ctx.body.get("payload", {}),
            environment=ctx.body.get("environment", "production"),
            description=ctx.body.get("description"),
            creator=self._user(ctx.login or "ghost"),
            created_at=now,
            updated_at=now,
            url=self._api(f"/repos/{state_repo.full_name}/deployments/{did}"),
            statuses_url=self._api(f"/repos/{state_repo.full_name}/deployments/{did}/statuses"),
            transient_environment=bool(ctx.body.get("transient_environment", False)),
            production_environment=bool(
                ctx.body.get("production_environment", ctx.body.get("environment") == "production")
            ),
        )
        state_repo.deployments[did] = deployment
        return 201, deployment, {}

    def _list_deployments(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        items = sorted(state_repo.deployments.values(), key=lambda d: -int(d["id"]))
        for key in ("environment", "ref", "sha", "task"):
            if ctx.query.get(key):
                items = [d for d in items if d.get(key) == ctx.query[key]]
        return self._page(ctx, items)

    def _create_deployment_status(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        deployment = state_repo.deployments.get(int(id))
        if deployment is None:
            raise _Answer(404, "Not Found")
        status = self._rewrite(spec.example("deployment-status"), state_repo.full_name)
        sid = self._next_id()
        now = self._now()
        status.update(
            id=sid,
            node_id=f"DES_{sid}",
            state=ctx.body["state"],
            description=ctx.body.get("description", ""),
            environment=ctx.body.get("environment", deployment["environment"]),
            environment_url=ctx.body.get("environment_url", ""),
            log_url=ctx.body.get("log_url", ""),
            target_url=ctx.body.get("log_url", ""),
            creator=self._user(ctx.login or "ghost"),
            created_at=now,
            updated_at=now,
            deployment_url=deployment["url"],
            url=f"{deployment['url']}/statuses/{sid}",
        )
        state_repo.deployment_statuses.setdefault(int(id), []).append(status)
        return 201, status, {}

    def _list_deployment_statuses(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        if int(id) not in state_repo.deployments:
            raise _Answer(404, "Not Found")
        items = list(reversed(state_repo.deployment_statuses.get(int(id), [])))
        return self._page(ctx, items)

    def _ref_body(self, state_repo: Repo, ref: str) -> dict[str, Any]:
        sha = state_repo.refs[ref]
        kind = "tag" if sha in state_repo.tags else "commit"
        return {
            "ref": ref,
            "node_id": f"REF_{hashlib.sha1(ref.encode()).hexdigest()[:12]}",
            "url": self._api(f"/repos/{state_repo.full_name}/git/{ref}"),
            "object": {
                "type": kind,
                "sha": sha,
                "url": self._api(f"/repos/{state_repo.full_name}/git/{kind}s/{sha}"),
            },
        }

    def _matching_refs(self, ctx: _Context, owner: str, repo: str, ref: str) -> Any:
        state_repo = self._repo(owner, repo)
        prefix = "refs/" + ref
        return self._page(
            ctx,
            [
                self._ref_body(state_repo, name)
                for name in sorted(state_repo.refs)
                if name.startswith(prefix)
            ],
        )

    def _get_ref(self, ctx: _Context, owner: str, repo: str, ref: str) -> Any:
        state_repo = self._repo(owner, repo)
        if "refs/" + ref not in state_repo.refs:
            raise _Answer(404, "Not Found")
        return 200, self._ref_body(state_repo, "refs/" + ref), {}

    def _create_ref(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        ref = ctx.body["ref"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise _Answer(422, "Reference name is invalid")
        if ref in state_repo.refs:
            raise _Answer(422, "Reference already exists")
        state_repo.refs[ref] = ctx.body["sha"]
        return 201, self._ref_body(state_repo, ref), {}

    def _update_ref(self, ctx: _Context, owner: str, repo: str, ref: str) -> Any:
        state_repo = self._repo(owner, repo)
        if "refs/" + ref not in state_repo.refs:
            raise _Answer(422, "Reference does not exist")
        state_repo.refs["refs/" + ref] = ctx.body["sha"]
        return 200, self._ref_body(state_repo, "refs/" + ref), {}

    def _delete_ref(self, ctx: _Context, owner: str, repo: str, ref: str) -> Any:
        state_repo = self._repo(owner, repo)
        if state_repo.refs.pop("refs/" + ref, None) is None:
            raise _Answer(422, "Reference does not exist")
        return 204, None, {}

    def _create_tag(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        body = ctx.body
        sha = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
        tag = self._rewrite(spec.example("git-tag"), state_repo.full_name)
        tag.update(
            sha=sha,
            node_id=f"TAG_{sha[:12]}",
            tag=body["tag"],
            message=body["message"],
            url=self._api(f"/repos/{state_repo.full_name}/git/tags/{sha}"),
        )
        tag["object"].update(sha=body["object"], type=body["type"])
        if "tagger" in body:
            tag["tagger"].update(body["tagger"])
        state_repo.tags[sha] = tag
        return 201, tag, {}

    def _get_tag(self, ctx: _Context, owner: str, repo: str, sha: str) -> Any:
        tag = self._repo(owner, repo).tags.get(sha)
        if tag is None:
            raise _Answer(404, "Not Found")
        return 200, tag, {}

    def _list_issues(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        wanted_state = ctx.query.get("state", "open")
        labels = [x for x in ctx.query.get("labels", "").split(",") if x]
        found = []
        for _, issue in sorted(state_repo.issues.items(), reverse=True):
            if wanted_state != "all" and issue["state"] != wanted_state:
                continue
            names = {label["name"] for label in issue["labels"]}
            if all(label in names for label in labels):
                found.append(issue)
        return self._page(ctx, found)

    def _create_issue(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        number = state_repo.next_number
        state_repo.next_number += 1
        labels = [x if isinstance(x, str) else x["name"] for x in ctx.body.get("labels", [])]
        issue = self._issue_body(
            state_repo,
            number,
            str(ctx.body["title"]),
            ctx.body.get("body"),
            ctx.login or "ghost",
            labels,
        )
        state_repo.issues[number] = issue
        return 201, issue, {}

    def _issue(self, state_repo: Repo, number: str) -> dict[str, Any]:
        issue = state_repo.issues.get(int(number))
        if issue is None:
            raise _Answer(404, "Not Found")
        return issue

    def _get_issue(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        return 200, self._issue(self._repo(owner, repo), number), {}

    def _update_issue(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        issue = self._issue(self._repo(owner, repo), number)
        for key in ("title", "body", "state"):
            if key in ctx.body:
                issue[key] = ctx.body[key]
        if "labels" in ctx.body:
            issue["labels"] = [
                self._label(x if isinstance(x, str) else x["name"]) for x in ctx.body["labels"]
            ]
        issue["closed_at"] = self._now() if issue["state"] == "closed" else None
        issue["updated_at"] = self._now()
        return 200, issue, {}

    def _issue_or_pull(self, state_repo: Repo, number: str) -> int:
        value = int(number)
        if value not in state_repo.pulls and value not in state_repo.issues:
            raise _Answer(404, "Not Found")
        return value

    def _list_comments(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        value = self._issue_or_pull(state_repo, number)
        since = ctx.query.get("since")
        items = [
            c
            for cid, c in sorted(state_repo.comments.items())
            if state_repo.comment_issue[cid] == value
            and (since is None or c["updated_at"] >= since)
        ]
        return self._page(ctx, items)

    def _post_comment(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        value = self._issue_or_pull(state_repo, number)
        body = ctx.body["body"]
        self._check_comment(body)
        return 201, self._create_comment(state_repo, value, body, ctx.login or "ghost"), {}

    @staticmethod
    def _check_comment(body: str) -> None:
        if len(body) > MAX_COMMENT_CHARS:
            raise _validation_failed(
                "IssueComment",
                "data",
                "unprocessable",
                "Body is too long (maximum is 65536 characters)",
            )
        if not body.strip():
            raise _validation_failed("IssueComment", "body", "missing_field")

    def _comment(self, state_repo: Repo, cid: str) -> dict[str, Any]:
        comment = state_repo.comments.get(int(cid))
        if comment is None:
            raise _Answer(404, "Not Found")
        return comment

    def _get_comment(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        return 200, self._comment(self._repo(owner, repo), id), {}

    def _update_comment(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        comment = self._comment(self._repo(owner, repo), id)
        self._check_comment(ctx.body["body"])
        comment["body"] = ctx.body["body"]
        comment["updated_at"] = self._now()
        return 200, comment, {}

    def _delete_comment(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._comment(state_repo, id)
        del state_repo.comments[int(id)]
        del state_repo.comment_issue[int(id)]
        return 204, None, {}

    def _list_reactions(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._comment(state_repo, id)
        return self._page(ctx, state_repo.reactions.get(int(id), []))

    def _add_reaction(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._comment(state_repo, id)
        reaction = spec.example("reaction")
        rid = self._next_id()
        reaction.update(
            id=rid,
            node_id=f"REA_{rid}",
            content=ctx.body["content"],
            user=self._user(ctx.login or "ghost"),
            created_at=self._now(),
        )
        state_repo.reactions.setdefault(int(id), []).append(reaction)
        return 201, reaction, {}

    def _list_labels(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        value = self._issue_or_pull(state_repo, number)
        item = state_repo.pulls.get(value) or state_repo.issues[value]
        return self._page(ctx, item["labels"])

    def _add_labels(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        value = self._issue_or_pull(state_repo, number)
        item = state_repo.pulls.get(value) or state_repo.issues[value]
        body = ctx.body
        names = body if isinstance(body, list) else body.get("labels", [])
        names = [x if isinstance(x, str) else x["name"] for x in names]
        have = {label["name"] for label in item["labels"]}
        item["labels"] += [self._label(n) for n in names if n not in have]
        return 200, item["labels"], {}

    def _pull(self, state_repo: Repo, number: str) -> dict[str, Any]:
        pull = state_repo.pulls.get(int(number))
        if pull is None:
            raise _Answer(404, "Not Found")
        return pull

    def _list_pulls(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        wanted = ctx.query.get("state", "open")
        found = [
            self._pull_simple(p)
            for _, p in sorted(state_repo.pulls.items(), reverse=True)
            if wanted == "all" or p["state"] == wanted
        ]
        if "head" in ctx.query:
            found = [p for p in found if p["head"]["label"] == ctx.query["head"]]
        if "base" in ctx.query:
            found = [p for p in found if p["base"]["ref"] == ctx.query["base"]]
        return self._page(ctx, found)

    def _get_pull(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        if "diff" in ctx.headers.get("accept", ""):
            raise _Answer(415, "the fake serves JSON only")
        return 200, self._pull(self._repo(owner, repo), number), {}

    def _update_pull(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        pull = self._pull(self._repo(owner, repo), number)
        for key in ("title", "body", "state"):
            if key in ctx.body:
                pull[key] = ctx.body[key]
        pull["updated_at"] = self._now()
        return 200, pull, {}

    def _pull_commits(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._pull(state_repo, number)
        template = self._rewrite(spec.example("commit-items")[0], state_repo.full_name)
        commits = []
        for sha in state_repo.pull_commits[int(number)]:
            commit = json.loads(json.dumps(template))
            commit.update(
                sha=sha,
                node_id=f"C_{sha[:12]}",
                url=self._api(f"/repos/{state_repo.full_name}/commits/{sha}"),
            )
            commits.append(commit)
        return self._page(ctx, commits)

    def _pull_files(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._pull(state_repo, number)
        template = self._rewrite(spec.example("diff-entry-items")[0], state_repo.full_name)
        files = []
        for name in state_repo.pull_files[int(number)]:
            entry = dict(template)
            entry.pop("previous_filename", None)
            if isinstance(name, tuple):
                entry.update(filename=name[1], previous_filename=name[0], status="renamed")
            else:
                entry.update(filename=name, status="modified")
            files.append(entry)
        return self._page(ctx, files)

    def _list_reviews(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._pull(state_repo, number)
        return self._page(ctx, state_repo.reviews.get(int(number), []))

    def _post_review(self, ctx: _Context, owner: str, repo: str, number: str) -> Any:
        state_repo = self._repo(owner, repo)
        pull = self._pull(state_repo, number)
        event = ctx.body.get("event")
        state = {
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            "COMMENT": "COMMENTED",
        }.get(event or "", "PENDING")
        review = self._create_review(
            state_repo,
            int(number),
            ctx.login or "ghost",
            state,
            ctx.body.get("commit_id", pull["head"]["sha"]),
            ctx.body.get("body", ""),
        )
        return 200, review, {}

    def _release(self, state_repo: Repo, rid: str) -> dict[str, Any]:
        release = state_repo.releases.get(int(rid))
        if release is None:
            raise _Answer(404, "Not Found")
        return release

    def _list_releases(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        items = [
            self._release_view(state_repo, r)
            for _, r in sorted(state_repo.releases.items(), reverse=True)
        ]
        return self._page(ctx, items)

    def _create_release(self, ctx: _Context, owner: str, repo: str) -> Any:
        state_repo = self._repo(owner, repo)
        body = ctx.body
        if any(r["tag_name"] == body["tag_name"] for r in state_repo.releases.values()):
            raise _validation_failed("Release", "tag_name", "already_exists")
        rid = self._next_id()
        release = self._rewrite(spec.example("release"), state_repo.full_name)
        api = self._api(f"/repos/{state_repo.full_name}/releases/{rid}")
        now = self._now()
        release.update(
            id=rid,
            node_id=f"RE_{rid}",
            tag_name=body["tag_name"],
            target_commitish=body.get("target_commitish", state_repo.default_branch),
            name=body.get("name"),
            body=body.get("body"),
            draft=body.get("draft", False),
            prerelease=body.get("prerelease", False),
            created_at=now,
            published_at=None if body.get("draft") else now,
            author=self._user(ctx.login or "ghost"),
            url=api,
            assets_url=f"{api}/assets",
            upload_url=f"{api}/assets{{?name,label}}",
            html_url=f"{self.server_url}/{state_repo.full_name}/releases/tag/{body['tag_name']}",
            assets=[],
        )
        state_repo.releases[rid] = release
        tag_ref = f"refs/tags/{body['tag_name']}"
        if tag_ref not in state_repo.refs and not release["draft"]:
            state_repo.refs[tag_ref] = body.get("target_commitish", "0" * 40)
        return 201, self._release_view(state_repo, release), {}

    def _get_release(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        return 200, self._release_view(state_repo, self._release(state_repo, id)), {}

    def _release_by_tag(self, ctx: _Context, owner: str, repo: str, tag: str) -> Any:
        state_repo = self._repo(owner, repo)
        for release in state_repo.releases.values():
            if release["tag_name"] == tag:
                return 200, self._release_view(state_repo, release), {}
        raise _Answer(404, "Not Found")

    def _update_release(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        release = self._release(state_repo, id)
        for key in ("tag_name", "name", "body", "draft", "prerelease", "target_commitish"):
            if key in ctx.body:
                release[key] = ctx.body[key]
        return 200, self._release_view(state_repo, release), {}

    def _delete_release(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        self._release(state_repo, id)
        del state_repo.releases[int(id)]
        return 204, None, {}

    def _list_assets(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        release = self._release(state_repo, id)
        return self._page(ctx, self._release_view(state_repo, release)["assets"])

    def _upload_asset(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        release = self._release(state_repo, id)
        name = ctx.query["name"]
        if any(a["name"] == name for a in self._release_view(state_repo, release)["assets"]):
            raise _validation_failed("ReleaseAsset", "name", "already_exists")
        aid = self._next_id()
        asset = self._rewrite(spec.example("release-asset"), state_repo.full_name)
        now = self._now()
        asset.update(
            id=aid,
            node_id=f"RA_{aid}",
            name=name,
            label=ctx.query.get("label"),
            content_type=ctx.content_type or "application/octet-stream",
            size=len(ctx.raw),
            digest="sha256:" + hashlib.sha256(ctx.raw).hexdigest(),
            download_count=0,
            created_at=now,
            updated_at=now,
            uploader=self._user(ctx.login or "ghost"),
            url=self._api(f"/repos/{state_repo.full_name}/releases/assets/{aid}"),
            browser_download_url=(
                f"{self.server_url}/{state_repo.full_name}/releases/download/"
                f"{release['tag_name']}/{name}"
            ),
        )
        state_repo.assets[aid] = asset
        state_repo.asset_data[aid] = ctx.raw
        state_repo.asset_release[aid] = release["id"]
        return 201, asset, {}

    def _get_asset(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        asset = state_repo.assets.get(int(id))
        if asset is None:
            raise _Answer(404, "Not Found")
        if "application/octet-stream" in ctx.headers.get("accept", ""):
            return 200, state_repo.asset_data[int(id)], {}
        return 200, asset, {}

    def _delete_asset(self, ctx: _Context, owner: str, repo: str, id: str) -> Any:
        state_repo = self._repo(owner, repo)
        if state_repo.assets.pop(int(id), None) is None:
            raise _Answer(404, "Not Found")
        state_repo.asset_release.pop(int(id), None)
        return 204, None, {}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (timeout faults) leaves a broken pipe: expected, not news
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass
class _Context:
    login: str | None
    token: Token | None
    query: dict[str, str]
    body: Any
    raw: bytes
    headers: dict[str, str]
    content_type: str
    path: str = ""


class _Handler(BaseHTTPRequestHandler):
    server_owner: FakeGitHub
    protocol_version = "HTTP/1.1"
    # one write per answer and no Nagle: otherwise delayed ACKs add ~40 ms per request
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read gh.requests instead

    def _serve(self) -> None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qsl(parts.query, keep_blank_values=True)
        if parts.path.startswith("/_fake/"):
            self._control(parts.path)
            return
        status, body, extra, fault = owner.handle(self.command, parts.path, query, headers, raw)
        if fault == "timeout":
            time.sleep(owner.timeout_sleep)
            self._drop()
            return
        if fault == "lost":
            self._drop()
            return
        self._send(status, body, extra)

    def _send(self, status: int, body: Any, extra: dict[str, str]) -> None:
        if isinstance(body, bytes):
            data, content_type = body, "application/octet-stream"
        elif body is None:
            data, content_type = b"", "application/json; charset=utf-8"
        else:
            data, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-github-media-type", "github.v3; format=json")
        self.send_header("x-ratelimit-limit", "5000")
        self.send_header("x-ratelimit-resource", "core")
        if "x-ratelimit-remaining" not in extra:
            self.send_header("x-ratelimit-remaining", "4999")
            self.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _drop(self) -> None:
        """Close the connection without an answer (the client sees a reset / no response)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _control(self, path: str) -> None:
        owner = self.server_owner
        if path == "/_fake/state":
            self._send(200, owner.dump_state(), {})
        elif path == "/_fake/requests":
            self._send(200, [vars(r) for r in owner.requests], {})
        elif path == "/_fake/violations":
            self._send(200, owner.violations, {})
        else:
            self._send(404, {"message": "unknown control path"}, {})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve
