"""Reading the Actions environment and real webhook payloads (tests/fixtures/github/webhooks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.errors import InputError
from ml_ci.github.context import from_env, resolve_target

WEBHOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "webhooks"


def env_for(event: str, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event.split(".")[0],
        "GITHUB_EVENT_PATH": str(WEBHOOKS / f"{event}.json"),
        "GITHUB_REPOSITORY": "Codertocat/Hello-World",
        "GITHUB_SHA": "f" * 40,  # the test-merge commit on pull_request events
        "GITHUB_RUN_ID": "42",
        **extra,
    }


def test_pull_request_event_uses_the_head_sha_not_the_merge_commit() -> None:
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    context = from_env(env_for("pull_request.opened"))
    assert context.pull_request == payload["number"]
    assert context.sha == payload["pull_request"]["head"]["sha"] != "f" * 40
    assert context.run_url == "https://github.com/Codertocat/Hello-World/actions/runs/42"
    assert not context.is_fork


def test_fork_is_detected(tmp_path: Path) -> None:
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    payload["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World"
    (tmp_path / "event.json").write_text(json.dumps(payload))
    context = from_env(
        {**env_for("pull_request.opened"), "GITHUB_EVENT_PATH": str(tmp_path / "event.json")}
    )
    assert context.is_fork


def test_workflow_run_takes_pr_and_sha_from_the_record_when_the_event_has_none() -> None:
    payload = json.loads((WEBHOOKS / "workflow_run.completed.json").read_text())
    context = from_env(env_for("workflow_run.completed"))
    assert context.pull_request is None  # empty pull_requests list (always so for forks)
    target = resolve_target(context, record_pull_request=12, record_sha="c" * 40)
    assert (target.repo, target.pull_request) == ("Codertocat/Hello-World", 12)
    assert target.sha == payload["workflow_run"]["head_sha"]


def test_issue_comment_on_a_pull_request() -> None:
    payload = json.loads((WEBHOOKS / "issue_comment.created.json").read_text())
    context = from_env(env_for("issue_comment.created"))
    expected = payload["issue"]["number"] if payload["issue"].get("pull_request") else None
    assert context.pull_request == expected


def test_outside_actions_flags_are_needed() -> None:
    with pytest.raises(InputError, match="--repo"):
        resolve_target(from_env({}))
    target = resolve_target(from_env({}), repo="o/r", pull_request=3, sha="d" * 40)
    assert (target.repo, target.pull_request, target.sha) == ("o/r", 3, "d" * 40)


def test_unreadable_event_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("{nope")
    with pytest.raises(InputError, match="GITHUB_EVENT_PATH"):
        from_env({"GITHUB_EVENT_PATH": str(tmp_path / "e.json")})


# ---------------------------------------------------------------- head vs evaluated commit
def _git(root: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _test_merge_checkout(root: Path) -> tuple[str, str, str]:
    """A clone detached at a merge of ``feature`` into ``main``, as actions/checkout does on
    a ``pull_request`` event; returns (base, head, merge) SHAs."""
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "commit", "-q", "--allow-empty", "-m", "base")
    base = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "-b", "feature")
    _git(root, "commit", "-q", "--allow-empty", "-m", "head")
    head = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "main")
    _git(root, "commit", "-q", "--allow-empty", "-m", "main moved on")
    _git(root, "merge", "-q", "--no-ff", "-m", f"Merge {head} into main", "feature")
    merge = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "--detach", merge)
    return base, head, merge


def test_record_names_the_pull_requests_head_and_the_evaluated_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_ci.repro import repo_info

    _, head, merge = _test_merge_checkout(tmp_path / "repo")
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    payload["pull_request"]["head"]["sha"] = head
    (tmp_path / "event.json").write_text(json.dumps(payload))
    for name, value in env_for("pull_request.opened", GITHUB_SHA=merge).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    info = repo_info(tmp_path / "repo", None)
    assert info.head_sha == head
    assert info.evaluated_sha == merge != head
    assert info.pull_request == payload["number"]


def test_push_event_head_is_the_pushed_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_ci.repro import repo_info

    _, _, merge = _test_merge_checkout(tmp_path / "repo")
    payload = json.loads((WEBHOOKS / "push.json").read_text())
    payload["after"] = merge
    (tmp_path / "event.json").write_text(json.dumps(payload))
    for name, value in env_for("push", GITHUB_SHA=merge).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    info = repo_info(tmp_path / "repo", None)
    assert info.head_sha == info.evaluated_sha == merge
    assert info.pull_request is None


def test_outside_actions_head_and_evaluated_are_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_ci.repro import repo_info

    _, _, merge = _test_merge_checkout(tmp_path / "repo")
    info = repo_info(tmp_path / "repo", None)
    assert info.head_sha == info.evaluated_sha == merge
