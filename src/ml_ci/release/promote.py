"""``ml-ci promote`` and ``ml-ci rollback``: assign a stage to a registered version.

Both write one annotated ``{model}#{stage}#{n}`` tag at the version's commit (GTO's
"latest assignment wins"), with a tagger date strictly after the model's newest tag, and
push it; a rollback assigns the previous holder of the stage again. Neither ever deletes
or moves a tag, so the history stays auditable (``gto history``).

With ``release.promote_requires_approval`` both check governance first: online, the
approvals on the pull request that produced the version (its number and head SHA are in
the version tag's message) are fetched again; offline, ``--approved-by`` names are checked
against ``governance.approvers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.errors import GateFailed, InputError
from ml_ci.governance.rules import Outcome, evaluate, offline_permissions, votes_from_cli
from ml_ci.registry import ModelState, StageHolder, VersionInfo, load_registry
from ml_ci.registry.tags import format_message, next_counter, normalize_version, stage_tag
from ml_ci.release.apply import apply_tags, sync
from ml_ci.release.gitops import NewTag

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.github.client import GitHubClient


@dataclass
class AssignSettings:
    root: Path
    config: Config
    model: str
    stage: str
    version: str | None = None
    remote: str = "origin"
    push: bool = True
    offline: bool = True
    repo: str | None = None
    approved_by: tuple[str, ...] = ()


@dataclass
class AssignResult:
    model: str
    stage: str
    version: str
    previous: str | None
    commit: str
    created: bool
    tags: list[str] = field(default_factory=list)
    approved_by: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "stage": self.stage,
            "version": self.version,
            "previous": self.previous,
            "commit": self.commit,
            "created": self.created,
            "tags": self.tags,
            "approved_by": self.approved_by,
        }


def previous_holder(state: ModelState, stage: str) -> StageHolder | None:
    """The version that held ``stage`` before the current holder (still registered)."""
    current = state.stages.get(stage)
    if current is None:
        return None
    for holder in state.stage_history(stage):
        info = state.versions.get(holder.version)
        if holder.version != current.version and info is not None and info.active:
            return holder
    return None


def assign_planner(
    model: str, stage: str, target: VersionInfo, message: str
) -> Callable[[ModelState | None, list[str]], list[NewTag]]:
    """One stage tag at ``target``'s commit, unless ``target`` already holds ``stage``."""

    def plan(state: ModelState | None, names: list[str]) -> list[NewTag]:
        holder = state.stages.get(stage) if state else None
        if holder is not None and holder.version == target.version:
            return []
        name = stage_tag(model, stage, next_counter(names, model))
        return [NewTag(name, target.commit, message)]

    return plan


def _state(root: Path, model: str) -> ModelState:
    state = load_registry(root).get(model)
    if state is None or not state.versions:
        raise InputError(
            f"model {model!r} has no registered version in the git tags of {root}; "
            "release one first (ml-ci release), or fetch the tags (git fetch --tags)"
        )
    return state


def promote(
    settings: AssignSettings,
    client: GitHubClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> AssignResult:
    """Assign ``settings.stage`` to ``settings.version`` (default: the release stage's holder)."""
    sync(settings.root, settings.remote, settings.push, settings.model)
    state = _state(settings.root, settings.model)
    if settings.version:
        wanted = normalize_version(settings.version)
        target = state.versions.get(wanted)
        if target is None or not target.active:
            known = ", ".join(v for v, i in state.versions.items() if i.active)
            raise InputError(
                f"{settings.model} {wanted} is not a registered version; registered: {known}"
            )
    else:
        source = settings.config.release.stage
        holder = state.stages.get(source)
        if holder is None or holder.version not in state.versions:
            raise InputError(
                f"no version of {settings.model} is at stage {source!r}; pass --version V"
            )
        target = state.versions[holder.version]
    return _assign(settings, state, target, "promote", client, progress)


def rollback(
    settings: AssignSettings,
    client: GitHubClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> AssignResult:
    """Assign ``settings.stage`` again to the version that held it before the current one."""
    sync(settings.root, settings.remote, settings.push, settings.model)
    state = _state(settings.root, settings.model)
    current = state.stages.get(settings.stage)
    if current is None:
        raise InputError(f"no version of {settings.model} is at stage {settings.stage!r}")
    previous = previous_holder(state, settings.stage)
    if previous is None:
        raise InputError(
            f"nothing to roll back to: {settings.model} {current.version} is the only version "
            f"that has held {settings.stage!r}"
        )
    return _assign(settings, state, state.versions[previous.version], "rollback", client, progress)


def _assign(
    settings: AssignSettings,
    state: ModelState,
    target: VersionInfo,
    verb: str,
    client: GitHubClient | None,
    progress: Callable[[str], None] | None,
) -> AssignResult:
    say = progress or (lambda _message: None)
    approved: list[str] = []
    if settings.config.release.promote_requires_approval:
        outcome = _governance(settings, target, client)
        if not outcome.satisfied:
            raise GateFailed(f"{verb} refused: governance not satisfied ({outcome.summary})")
        approved = outcome.approved_by
    before = state.stages.get(settings.stage)
    title = f"ml-ci: {verb} {settings.model} {target.version} to {settings.stage}"
    fields = {
        "record-digest": target.fields.get("record-digest", ""),
        "verdict": target.fields.get("verdict", ""),
        "approvers": ", ".join(approved) or target.fields.get("approvers", ""),
        "pull-request": target.fields.get("pull-request", ""),
        "previous": before.version if before else "",
    }
    plan = assign_planner(settings.model, settings.stage, target, format_message(title, fields))
    new = apply_tags(
        settings.root, settings.model, plan, remote=settings.remote, push=settings.push
    )
    for tag in new:
        say(f"tagged {tag.name}")
    return AssignResult(
        model=settings.model,
        stage=settings.stage,
        version=target.version,
        previous=before.version if before else None,
        commit=target.commit,
        created=bool(new),
        tags=[tag.name for tag in new],
        approved_by=approved,
    )


def _governance(
    settings: AssignSettings, target: VersionInfo, client: GitHubClient | None
) -> Outcome:
    config = settings.config.governance
    if not settings.offline and client is not None and settings.repo:
        from ml_ci.governance.github import evaluate_pull, get_pull

        number = target.fields.get("pull-request")
        if not number or not number.isdigit():
            raise InputError(
                f"{settings.model} {target.version}: its tag names no pull request to check "
                "approvals on; use --offline --approved-by NAME"
            )
        pull = get_pull(client, settings.repo, int(number))
        return evaluate_pull(client, pull, config, required=True)
    head = target.fields.get("head-sha") or target.commit
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    votes = votes_from_cli(settings.approved_by, head, now)
    return evaluate(
        votes,
        head_sha=head,
        author=None,
        config=config,
        required=True,
        permissions=offline_permissions(settings.approved_by, config),
        teams={},
    )
