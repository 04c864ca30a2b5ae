"""One incident issue per model, version and kind: opened, updated in place, closed on recovery.

The canary (``kind="canary"``), the SLO monitor (``kind="slo:<metric>"``) and the drift watch
(``kind="drift"``) all report through here, so a problem seen on every scheduled run stays ONE
issue that its latest run keeps current. An incident is found by a hidden marker in its body::

    <!-- ml-ci:incident model=<model> version=<version> kind=<kind> -->

searched over every page of the repository's open issues (pull requests skipped). The parts
are checked against a strict pattern, so no text from elsewhere can forge or break a marker.

Writes survive a lost answer: when GitHub may have created the issue but the answer never came
(:class:`~ml_ci.github.client.WriteUnconfirmed`), the issues are searched again before a second
create, so a retried run never opens a duplicate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ml_ci.errors import InputError

if TYPE_CHECKING:
    from ml_ci.github.client import GitHubClient

# "-" alone: the incident is not a version's (e.g. drift of a record that names none)
_PART = re.compile(r"^(?:-|[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99})$")
TRUSTED_AUTHORS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
# ml-ci's own identity with the workflow's GITHUB_TOKEN; another GitHub App's token writes as
# "<app-slug>[bot]" (config: monitor.incident_bots)
BOTS: tuple[str, ...] = ("github-actions[bot]",)
MARKER = "<!-- ml-ci:incident model={model} version={version} kind={kind} -->"


@dataclass(frozen=True)
class IncidentKey:
    """What identifies an incident. ``version`` is ``-`` when the problem is not a version's."""

    model: str
    version: str
    kind: str  # canary | slo:<metric> | drift

    def __post_init__(self) -> None:
        for name in ("model", "version", "kind"):
            value = getattr(self, name)
            if not _PART.match(value):
                raise InputError(
                    f"incident {name} {value!r}: use letters, digits and . _ : @ + - only"
                )

    @property
    def marker(self) -> str:
        return MARKER.format(model=self.model, version=self.version, kind=self.kind)


@dataclass
class IncidentResult:
    """What happened to the incident issue in this run."""

    action: str  # opened | updated | closed | none
    number: int | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "number": self.number, "url": self.url}


def find_incident(
    client: GitHubClient,
    repository: str,
    key: IncidentKey,
    *,
    legacy: tuple[str, ...] = (),
    bots: tuple[str, ...] = BOTS,
) -> dict[str, Any] | None:
    """The open issue carrying ``key``'s marker, if any, opened by ml-ci's own bot (a login in
    ``bots``) or by someone with a role in the repository: on a public repository anyone can
    open an issue quoting the marker, and so can every app installed on it (renovate[bot],
    dependabot[bot]); ml-ci must not write its incident into, or close, someone else's issue.

    ``legacy``: markers an older ml-ci wrote for the same incident; an issue carrying one is
    found when none carries ``key``'s (and an update rewrites its body with the new marker)."""
    older = None
    for issue in client.paginate(f"/repos/{repository}/issues", {"state": "open"}):
        if "pull_request" in issue or not trusted_author(issue, bots):
            continue
        body = issue.get("body") or ""
        if key.marker in body:
            return dict(issue)
        if older is None and any(marker in body for marker in legacy):
            older = dict(issue)
    return older


def trusted_author(issue: dict[str, Any], bots: tuple[str, ...] = BOTS) -> bool:
    """Opened by one of ``bots`` (a bot account: its login cannot be taken by a person) or by
    an owner, member or collaborator of the repository."""
    user = issue.get("user") or {}
    ours = user.get("type") == "Bot" and user.get("login") in bots
    return ours or issue.get("author_association") in TRUSTED_AUTHORS


def open_or_update(
    client: GitHubClient,
    repository: str,
    key: IncidentKey,
    *,
    title: str,
    body: str,
    labels: tuple[str, ...] = (),
    legacy: tuple[str, ...] = (),
    bots: tuple[str, ...] = BOTS,
) -> IncidentResult:
    """Open the incident, or update the open one in place (title and body; labels are set only
    when opening, so labels people added later stay). ``legacy``, ``bots``: see
    :func:`find_incident`."""
    from ml_ci.github.client import WriteUnconfirmed

    payload: dict[str, Any] = {"title": title, "body": f"{body.rstrip()}\n\n{key.marker}\n"}
    issue = find_incident(client, repository, key, legacy=legacy, bots=bots)
    if issue is not None:
        updated = client.request(
            "PATCH", f"/repos/{repository}/issues/{issue['number']}", json=payload
        ).json()
        return IncidentResult("updated", int(updated["number"]), updated.get("html_url"))
    opening = {**payload, "labels": list(labels)} if labels else payload
    try:
        created = client.request("POST", f"/repos/{repository}/issues", json=opening).json()
    except WriteUnconfirmed:
        # the answer was lost: GitHub may have created it; look before creating again
        found = find_incident(client, repository, key, legacy=legacy, bots=bots)
        created = (
            found or client.request("POST", f"/repos/{repository}/issues", json=opening).json()
        )
    return IncidentResult("opened", int(created["number"]), created.get("html_url"))


def update_open(
    client: GitHubClient,
    repository: str,
    key: IncidentKey,
    *,
    body: str,
    legacy: tuple[str, ...] = (),
    bots: tuple[str, ...] = BOTS,
) -> IncidentResult:
    """Rewrite the body of the open incident of ``key`` (title and labels kept); ``none`` when
    there is none (nothing is opened). ``legacy``, ``bots``: see :func:`find_incident`."""
    issue = find_incident(client, repository, key, legacy=legacy, bots=bots)
    if issue is None:
        return IncidentResult("none")
    updated = client.request(
        "PATCH",
        f"/repos/{repository}/issues/{issue['number']}",
        json={"body": f"{body.rstrip()}\n\n{key.marker}\n"},
    ).json()
    return IncidentResult("updated", int(updated["number"]), updated.get("html_url"))


def close_on_recovery(
    client: GitHubClient,
    repository: str,
    key: IncidentKey,
    *,
    comment: str,
    legacy: tuple[str, ...] = (),
    bots: tuple[str, ...] = BOTS,
) -> IncidentResult:
    """Close the open incident of ``key`` with a closing comment; ``none`` when there is none.
    ``legacy``, ``bots``: see :func:`find_incident`."""
    issue = find_incident(client, repository, key, legacy=legacy, bots=bots)
    if issue is None:
        return IncidentResult("none")
    number = int(issue["number"])
    client.request("POST", f"/repos/{repository}/issues/{number}/comments", json={"body": comment})
    closed = client.request(
        "PATCH",
        f"/repos/{repository}/issues/{number}",
        json={"state": "closed", "state_reason": "completed"},
    ).json()
    return IncidentResult("closed", number, closed.get("html_url"))


_MARKER_FOUND = re.compile(
    r"<!-- ml-ci:incident model=(\S{1,100}) version=(\S{1,100}) kind=(\S{1,100}) -->"
)


def list_incidents(
    client: GitHubClient, repository: str, *, bots: tuple[str, ...] = BOTS
) -> list[dict[str, Any]]:
    """Every open incident of the repository (one item per issue carrying a valid marker, from
    a trusted author, as :func:`find_incident` accepts them), by issue number."""
    found = []
    for issue in client.paginate(f"/repos/{repository}/issues", {"state": "open"}):
        if "pull_request" in issue or not trusted_author(issue, bots):
            continue
        match = _MARKER_FOUND.search(issue.get("body") or "")
        if match is None or not all(_PART.match(part) for part in match.groups()):
            continue
        model, version, kind = match.groups()
        found.append(
            {
                "number": int(issue["number"]),
                "title": str(issue.get("title") or ""),
                "url": issue.get("html_url"),
                "model": model,
                "version": version,
                "kind": kind,
                "updated_at": issue.get("updated_at"),
            }
        )
    return sorted(found, key=lambda item: item["number"])
