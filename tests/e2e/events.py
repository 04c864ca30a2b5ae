"""Webhook payloads for act, adapted from GitHub's examples in tests/fixtures/e2e/.

The files are copies of GitHub's documented example payloads; these helpers only change
what ml-ci reads (repository, numbers, SHAs, users) so one example repository can be driven
through all the workflows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "e2e"
REPO = "acme/models"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def _repository(payload: dict[str, Any], key: str = "repository") -> dict[str, Any]:
    repository: dict[str, Any] = payload[key]
    owner, name = REPO.split("/")
    repository.update(full_name=REPO, name=name, default_branch="main", fork=False)
    repository["owner"]["login"] = owner
    return repository


def pull_request(
    action: str,
    number: int,
    head: str,
    base: str,
    *,
    user: str = "bob",
    head_ref: str = "candidate",
) -> dict[str, Any]:
    """A ``pull_request`` event (``opened`` or ``synchronize``) for PR ``number``."""
    payload = _load(f"pull_request.{action}.json")
    repository = _repository(payload)
    payload.update(action=action, number=number)
    pull = payload["pull_request"]
    pull.update(number=number, state="open", draft=False)
    pull["user"]["login"] = user
    pull["head"].update(sha=head, ref=head_ref, repo=repository)
    pull["base"].update(sha=base, ref="main", repo=repository)
    return payload


def workflow_run(
    run_id: int, number: int, head: str, conclusion: str, *, head_ref: str = "candidate"
) -> dict[str, Any]:
    """The ``workflow_run`` event that follows the pull-request check of ``head``."""
    payload = _load("workflow_run.completed.json")
    repository = _repository(payload)
    run = payload["workflow_run"]
    run.update(
        id=run_id,
        name="ml-ci pull request check",
        event="pull_request",
        status="completed",
        conclusion=conclusion,
        head_sha=head,
        head_branch=head_ref,
        pull_requests=[{"number": number, "head": {"sha": head, "ref": head_ref}}],
    )
    run["repository"] = run["head_repository"] = repository
    payload["action"] = "completed"
    return payload


def review(
    number: int, head: str, base: str, reviewer: str, *, head_ref: str = "candidate"
) -> dict[str, Any]:
    """A ``pull_request_review`` (approved) by ``reviewer`` on ``head``."""
    payload = _load("pull_request_review.submitted.json")
    repository = _repository(payload)
    payload["action"] = "submitted"
    payload["review"].update(state="approved", commit_id=head)
    payload["review"]["user"]["login"] = reviewer
    pull = payload["pull_request"]
    pull.update(number=number, state="open")
    pull["head"].update(sha=head, ref=head_ref, repo=repository)
    pull["base"].update(sha=base, ref="main", repo=repository)
    return payload


def push(after: str, before: str) -> dict[str, Any]:
    """A ``push`` of ``after`` to the default branch."""
    payload = _load("push.json")
    _repository(payload)
    payload.update(ref="refs/heads/main", after=after, before=before, created=False)
    payload["head_commit"] = dict(payload.get("head_commit") or {}, id=after)
    return payload


def schedule(cron: str) -> dict[str, Any]:
    """A ``schedule`` event: GitHub sends the cron line and the repository (no example payload
    exists for it; the repository is push.json's)."""
    repository = _repository(_load("push.json"))
    return {"schedule": cron, "repository": repository}


def workflow_dispatch(workflow: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A ``workflow_dispatch`` of ``workflow`` on the default branch with ``inputs``."""
    repository = _repository(_load("push.json"))
    return {
        "inputs": inputs,
        "ref": "refs/heads/main",
        "repository": repository,
        "workflow": f".github/workflows/{workflow}",
    }


def write(payload: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path
