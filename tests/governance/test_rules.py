"""The approval rules as pure functions: one test per way an approval must NOT count."""

from __future__ import annotations

from typing import Any

import pytest

from ml_ci.config.governance import GovernanceConfig
from ml_ci.governance.rules import (
    Outcome,
    Vote,
    evaluate,
    governance_required,
    inconclusive_let_pass,
    parse_command,
    votes_from_comments,
    votes_from_reviews,
)

HEAD = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
OLD = "0" * 40
CONFIG = GovernanceConfig(approvers=["alice", "bob"])


def vote(actor: str = "alice", action: str = "approve", sha: str | None = HEAD, **kw: Any) -> Vote:
    return Vote(
        actor, action, sha, kw.pop("at", "2026-01-01T00:00:01Z"), kw.pop("via", "review"), **kw
    )  # type: ignore[arg-type]


def run(
    votes: list[Vote],
    config: GovernanceConfig = CONFIG,
    permissions: dict[str, str | None] | None = None,
    teams: dict[str, list[str]] | None = None,
    author: str = "carol",
) -> Outcome:
    perms = permissions if permissions is not None else {"alice": "write", "bob": "admin"}
    return evaluate(
        votes,
        head_sha=HEAD,
        author=author,
        config=config,
        required=True,
        permissions=perms,
        teams=teams or {},
    )


def test_an_approver_with_write_permission_satisfies() -> None:
    outcome = run([vote()])
    assert outcome.satisfied and outcome.approved_by == ["alice"]
    assert outcome.decisions[0].counted and outcome.decisions[0].reason is None


def test_approval_for_an_old_sha_is_ignored() -> None:
    outcome = run([vote(sha=OLD)])
    assert not outcome.satisfied
    assert "a push voids approvals" in (outcome.decisions[0].reason or "")


def test_the_author_cannot_approve_unless_allowed() -> None:
    assert not run([vote("alice")], author="alice").satisfied
    assert "author" in (run([vote("alice")], author="ALICE").decisions[0].reason or "")
    allowed = GovernanceConfig(approvers=["alice"], self_approval=True)
    assert run([vote("alice")], config=allowed, author="alice").satisfied


def test_a_non_approver_is_ignored_even_with_admin_permission() -> None:
    outcome = run([vote("mallory")], permissions={"mallory": "admin"})
    assert not outcome.satisfied
    assert "may not approve" in (outcome.decisions[0].reason or "")


def test_a_listed_approver_without_write_permission_is_ignored() -> None:
    for role in ("read", "triage", None):
        outcome = run([vote("alice")], permissions={"alice": role})
        assert not outcome.satisfied, role


def test_an_edited_comment_does_not_count() -> None:
    comment = {
        "user": {"login": "alice"},
        "body": f"/ml-ci approve {HEAD}",
        "created_at": "2026-01-01T00:00:01Z",
        "updated_at": "2026-01-01T00:05:00Z",
        "author_association": "OWNER",
    }
    outcome = run(votes_from_comments([comment]))
    assert not outcome.satisfied
    assert "edited" in (outcome.decisions[0].reason or "")


def test_a_comment_must_name_the_commit() -> None:
    comment = {
        "user": {"login": "alice"},
        "body": "/ml-ci approve",
        "created_at": "t",
        "updated_at": "t",
    }
    outcome = run(votes_from_comments([comment]))
    assert not outcome.satisfied
    assert f"/ml-ci approve {HEAD}" in (outcome.decisions[0].reason or "")


def test_author_association_is_never_trusted() -> None:
    comment = {
        "user": {"login": "mallory"},
        "body": f"/ml-ci approve {HEAD}",
        "created_at": "t",
        "updated_at": "t",
        "author_association": "OWNER",
    }
    assert not run(votes_from_comments([comment]), permissions={"mallory": None}).satisfied


def test_parse_command() -> None:
    assert parse_command(f"/ml-ci approve {HEAD[:7]}\nlooks good") == ("approve", HEAD[:7], "")
    assert parse_command("/ml-ci reject abcdef0 leaks the label") == (
        "reject",
        "abcdef0",
        "leaks the label",
    )
    assert parse_command("please /ml-ci approve abcdef0") is None
    assert parse_command("/ml-ci approved abcdef0") is None
    # any run of hex digits is taken as the SHA, so that a short one is refused with the reason
    assert parse_command("/ml-ci approve abc") == ("approve", "abc", "")
    assert parse_command("/ml-ci approve looks good") == ("approve", None, "looks good")


def test_reviews_map_to_votes() -> None:
    reviews = [
        {"user": {"login": "alice"}, "state": "APPROVED", "commit_id": HEAD, "submitted_at": "1"},
        {"user": {"login": "bob"}, "state": "COMMENTED", "commit_id": HEAD, "submitted_at": "2"},
        {
            "user": {"login": "bob"},
            "state": "CHANGES_REQUESTED",
            "commit_id": HEAD,
            "submitted_at": "3",
            "body": "no",
        },
    ]
    votes = votes_from_reviews(reviews)
    assert [(v.actor, v.action) for v in votes] == [("alice", "approve"), ("bob", "reject")]


def test_a_standing_rejection_blocks_and_a_later_approval_lifts_it() -> None:
    reject = vote("bob", "reject", at="2026-01-01T00:00:02Z", note="drift")
    outcome = run([vote("alice"), reject])
    assert not outcome.satisfied and outcome.rejected_by == ["bob"]
    assert outcome.decisions[1].reason == "rejected: drift"
    later = vote("bob", at="2026-01-01T00:00:03Z")
    outcome = run([vote("alice"), reject, later])
    assert outcome.satisfied and outcome.approved_by == ["alice", "bob"]
    assert "superseded" in (outcome.decisions[1].reason or "")


def test_required_approvals_counts_distinct_people() -> None:
    two = GovernanceConfig(approvers=["alice", "bob"], required_approvals=2)
    same_twice = [vote("alice"), vote("alice", at="2026-01-01T00:00:05Z", via="comment")]
    assert not run(same_twice, config=two).satisfied
    assert run([vote("alice"), vote("bob")], config=two).satisfied


def test_team_membership_makes_an_approver() -> None:
    config = GovernanceConfig(teams=["acme/ml-leads"])
    outcome = run(
        [vote("dave")], config=config, permissions={"dave": None}, teams={"dave": ["acme/ml-leads"]}
    )
    assert not outcome.satisfied  # a team member needs write permission too
    assert "no permission; needs write" in (outcome.decisions[0].reason or "")
    outcome = run(
        [vote("dave")],
        config=config,
        permissions={"dave": "write"},
        teams={"dave": ["acme/ml-leads"]},
    )
    assert outcome.satisfied
    assert not run([vote("dave")], config=config, permissions={"dave": "admin"}).satisfied


@pytest.mark.parametrize(
    ("role", "counts"),
    [("read", False), ("triage", False), ("write", True), ("maintain", True), ("admin", True)],
)
def test_a_team_member_needs_min_permission(role: str, counts: bool) -> None:
    """A team member with read permission on the repository could approve before."""
    config = GovernanceConfig(teams=["acme/ml-leads"])
    outcome = run(
        [vote("dave")], config=config, permissions={"dave": role}, teams={"dave": ["acme/ml-leads"]}
    )
    assert outcome.satisfied is counts


def test_min_permission_raises_the_bar_for_listed_approvers_and_teams() -> None:
    config = GovernanceConfig(
        approvers=["alice"], teams=["acme/ml-leads"], min_permission="maintain"
    )
    perms = {"alice": "write", "dave": "write", "bob": "maintain"}
    teams = {"dave": ["acme/ml-leads"], "bob": ["acme/ml-leads"]}
    outcome = run([vote("alice"), vote("dave")], config=config, permissions=perms, teams=teams)
    assert not outcome.satisfied
    assert all("needs maintain" in (d.reason or "") for d in outcome.decisions)
    assert run([vote("bob")], config=config, permissions=perms, teams=teams).satisfied


def test_an_unknown_role_is_no_permission() -> None:
    """Custom repository roles have their own names: never guess they include write."""
    assert not run([vote("alice")], permissions={"alice": "security-reviewer"}).satisfied


def test_without_lists_anyone_with_write_permission_approves() -> None:
    config = GovernanceConfig()
    assert run([vote("erin")], config=config, permissions={"erin": "maintain"}).satisfied
    assert not run([vote("erin")], config=config, permissions={"erin": "read"}).satisfied


@pytest.mark.parametrize(
    ("require", "needs_human", "inconclusive", "expected"),
    [
        ("always", False, False, True),
        ("never", True, True, False),
        ("flagged", False, False, False),
        ("flagged", True, False, True),
        ("flagged", False, True, True),
    ],
)
def test_when_approval_is_required(
    require: str, needs_human: bool, inconclusive: bool, expected: bool
) -> None:
    config = GovernanceConfig(require=require)  # type: ignore[arg-type]
    assert (
        governance_required(config, needs_human=needs_human, inconclusive_let_pass=inconclusive)
        is expected
    )


@pytest.mark.parametrize(
    ("verdicts", "inconclusive", "expected"),
    [
        (None, "pass", False),  # no compare section: nothing was let pass
        (["pass", "inconclusive"], "pass", True),
        (["pass", "inconclusive"], "fail", False),  # the gate failed instead
        (["pass", "pass"], "pass", False),
    ],
)
def test_an_inconclusive_gate_let_pass_flags_the_release(
    verdicts: list[str] | None, inconclusive: str, expected: bool
) -> None:
    from ml_ci.record import CompareSection, EvaluationRecord, GateResult

    compare = None
    if verdicts is not None:
        gates = [
            GateResult(metric=f"m{i}", rule="non_inferior", margin=0.01, verdict=v)  # type: ignore[arg-type]
            for i, v in enumerate(verdicts)
        ]
        compare = CompareSection(gates=gates, verdict="pass")
    assert inconclusive_let_pass(EvaluationRecord(compare=compare), inconclusive) is expected


def test_not_required_is_satisfied_without_votes() -> None:
    outcome = evaluate(
        [], head_sha=HEAD, author=None, config=CONFIG, required=False, permissions={}, teams={}
    )
    assert outcome.satisfied and outcome.summary == "approval not required"


@pytest.mark.parametrize("length", [7, 12, 39])
def test_a_short_sha_is_refused_with_the_reason(length: int) -> None:
    """A prefix can be brute-forced (a commit sharing 7 hex digits took 17 s on 2 cores), so an
    approval for a prefix would be replayable onto that other commit."""
    comment = {
        "user": {"login": "alice"},
        "body": f"/ml-ci approve {HEAD[:length]}",
        "created_at": "t",
        "updated_at": "t",
    }
    outcome = run(votes_from_comments([comment]))
    assert not outcome.satisfied and not outcome.decisions[0].counted
    reason = outcome.decisions[0].reason or ""
    assert "full 40-character SHA" in reason and "brute-forced" in reason
    assert f"/ml-ci approve {HEAD}" in reason


def test_the_full_sha_counts_in_any_case() -> None:
    comment = {
        "user": {"login": "alice"},
        "body": f"/ml-ci approve {HEAD.upper()}",
        "created_at": "t",
        "updated_at": "t",
    }
    assert run(votes_from_comments([comment])).satisfied


def test_the_outcome_carries_the_line_to_copy() -> None:
    outcome = run([])
    assert outcome.approve_command == f"/ml-ci approve {HEAD}"
    assert outcome.reject_command == f"/ml-ci reject {HEAD} <reason>"
