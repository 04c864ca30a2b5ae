"""Where we run: the GitHub Actions environment and event, parsed once.

Inside Actions the runner sets ``GITHUB_*`` variables and writes the triggering event's
webhook payload to ``$GITHUB_EVENT_PATH``. Two traps this module handles:

* on ``pull_request`` events ``GITHUB_SHA`` is the test-merge commit, not the PR head; a
  commit status must go on ``pull_request.head.sha`` to show on the pull request;
  the record names both (``repo.head_sha`` from here, ``repo.evaluated_sha`` the checkout);
* on ``workflow_run`` events (the fork-safe second workflow) ``workflow_run.pull_requests``
  is empty for pull requests from forks, so the number and head SHA come from the record
  (``record.repo.pull_request`` / ``head_sha``), written by the first workflow.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci.errors import InputError
from ml_ci.jsonfile import read_json


@dataclass(frozen=True)
class ActionsContext:
    """What the environment says about the run (all ``None`` outside Actions)."""

    in_actions: bool = False
    repository: str | None = None
    event_name: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    sha: str | None = None
    event_sha: str | None = None  # the head SHA the event names (trusted, unlike a record)
    pull_request: int | None = None
    run_id: str | None = None
    run_attempt: str | None = None
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    step_summary: Path | None = None
    output: Path | None = None
    is_fork: bool = False

    @property
    def head_sha(self) -> str | None:
        """The commit under review, as the event names it: ``pull_request.head.sha`` (or
        ``workflow_run.head_sha``); on ``push`` the pushed commit (``after``). ``None`` when
        the event names none (then the checkout is what is evaluated)."""
        if self.event_sha:
            return self.event_sha
        if self.event_name == "push":
            after = self.event.get("after")
            return after if isinstance(after, str) and after.strip("0") else self.sha
        return None

    @property
    def run_url(self) -> str | None:
        """Link to this workflow run, when known."""
        if not (self.repository and self.run_id):
            return None
        url = f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        if self.run_attempt and self.run_attempt != "1":
            url += f"/attempts/{self.run_attempt}"
        return url


def read_event(path: str | None) -> dict[str, Any]:
    """The webhook payload at ``GITHUB_EVENT_PATH`` (``{}`` when unset): a JSON object."""
    if not path:
        return {}
    data = read_json(Path(path), "GITHUB_EVENT_PATH event")
    if not isinstance(data, dict):
        raise InputError(
            f"GITHUB_EVENT_PATH {path}: a webhook event is a JSON object, not a "
            f"{type(data).__name__}"
        )
    return data


def pull_request_of(
    event_name: str | None, event: Mapping[str, Any]
) -> tuple[int | None, str | None]:
    """(number, head SHA) of the pull request the event is about, when it says."""
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        head = pull.get("head") or {}
        number = pull.get("number") if pull.get("number") is not None else event.get("number")
        sha = head.get("sha") if isinstance(head, dict) else None
        return _int(number, "pull_request.number"), _sha(sha, "pull_request.head.sha")
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request"):
        # issue_comment on a PR: no SHA in the payload
        return _int(issue.get("number"), "issue.number"), None
    run = event.get("workflow_run")
    if isinstance(run, dict):
        pulls = run.get("pull_requests") or []
        first = pulls[0] if isinstance(pulls, list) and pulls else None
        number = (
            _int(first.get("number"), "workflow_run.pull_requests[0].number")
            if isinstance(first, dict)
            else None
        )
        return number, _sha(run.get("head_sha"), "workflow_run.head_sha")
    return None, None


def _is_fork(event: Mapping[str, Any]) -> bool:
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        head_repo = (pull.get("head") or {}).get("repo") or {}
        base_repo = (pull.get("base") or {}).get("repo") or {}
        return bool(head_repo.get("full_name")) and head_repo.get("full_name") != base_repo.get(
            "full_name"
        )
    return False


def _int(value: Any, key: str) -> int | None:
    """A pull request number: a JSON integer (not a string, a float or a boolean)."""
    if value is None:
        return None
    if type(value) is not int or value <= 0:
        raise InputError(
            f"GITHUB_EVENT_PATH: {key} must be a positive integer, got {type(value).__name__} "
            f"{str(value)[:40]!r}"
        )
    return value


def _sha(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) not in (40, 64) or not _is_hex(value):
        raise InputError(f"GITHUB_EVENT_PATH: {key} must be a commit SHA (40 hex digits)")
    return value


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text.lower())


def from_env(env: Mapping[str, str] | None = None) -> ActionsContext:
    """Parse the ``GITHUB_*`` environment and the event payload."""
    env = os.environ if env is None else env
    event_name = env.get("GITHUB_EVENT_NAME") or None
    event = read_event(env.get("GITHUB_EVENT_PATH"))
    number, head_sha = pull_request_of(event_name, event)
    return ActionsContext(
        in_actions=env.get("GITHUB_ACTIONS") == "true",
        repository=env.get("GITHUB_REPOSITORY") or None,
        event_name=event_name,
        event=event,
        sha=head_sha or env.get("GITHUB_SHA") or None,
        event_sha=head_sha,
        pull_request=number,
        run_id=env.get("GITHUB_RUN_ID") or None,
        run_attempt=env.get("GITHUB_RUN_ATTEMPT") or None,
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        step_summary=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
        output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
        is_fork=_is_fork(event),
    )


@dataclass(frozen=True)
class Target:
    """The repository, pull request and commit a publish goes to."""

    repo: str
    pull_request: int | None
    sha: str | None
    # where the number came from: a record from a fork's run is not to be trusted blindly
    pull_request_from_record: bool = False


def resolve_target(
    context: ActionsContext,
    *,
    repo: str | None = None,
    pull_request: int | None = None,
    sha: str | None = None,
    record_repo: str | None = None,
    record_pull_request: int | None = None,
    record_sha: str | None = None,
) -> Target:
    """Flags win, then the event, then the record (the workflow_run case), then GITHUB_SHA.

    The event's head SHA beats the record's: in the fork-safe workflow_run pattern the
    record comes from an untrusted run, the event from GitHub.
    """
    name = repo or context.repository or record_repo
    if not name or name.count("/") != 1:
        raise InputError(
            "no repository to publish to: pass --repo OWNER/NAME (inside Actions "
            "GITHUB_REPOSITORY gives it)"
        )
    number = pull_request or context.pull_request or record_pull_request
    head = sha or context.event_sha or record_sha or context.sha
    from_record = not (pull_request or context.pull_request) and number is not None
    return Target(name, number, head, from_record)
