"""Plan -> create -> push -> (on a lost race) fetch and plan again.

Release, promote and rollback all change the registry the same way: they look at the
current tags, decide which new tags to write, write them locally with increasing tagger
dates, and push them atomically. When the remote already has one of the names (another run
won a race), the local tags are deleted, the remote's tags fetched, and the planner asked
again -- it then sees the other run's tags and takes the next version or counter, or
finds that its work was done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ml_ci.errors import InputError
from ml_ci.gitutil import git
from ml_ci.registry import ModelState, build_state, read_tags
from ml_ci.release.gitops import (
    NewTag,
    create_tags,
    delete_local_tags,
    fetch_tags,
    has_remote,
    push_tags,
)

# (the model's state or None, every tag name in the repository) -> tags to create
Planner = Callable[[ModelState | None, list[str]], list[NewTag]]
ATTEMPTS = 5


def sync(root: Path, remote: str, push: bool, model: str | None = None) -> None:
    """Fetch the remote's tags (of ``model``) first, so plans start from the shared state."""
    if push:
        if not has_remote(root, remote):
            raise InputError(
                f"{root}: no git remote {remote!r} to push tags to; add it, or pass --no-push"
            )
        fetch_tags(root, remote, model)


def current_state(root: Path, model: str) -> tuple[ModelState | None, list[str], int | None]:
    """The model's state, all tag names, and the model's newest tagger date."""
    tags = read_tags(root)
    names = git(["tag", "--list"], root).split()
    own = [t.time for t in tags if t.parsed.model == model]
    return build_state(tags).get(model), names, (max(own) if own else None)


def apply_tags(
    root: Path,
    model: str,
    plan: Planner,
    *,
    remote: str = "origin",
    push: bool = True,
    attempts: int = ATTEMPTS,
) -> list[NewTag]:
    """Run ``plan`` against the current tags and publish what it returns (see module doc)."""
    for _ in range(attempts):
        sync(root, remote, push, model)
        state, names, last = current_state(root, model)
        new = plan(state, names)
        if not new:
            return []
        create_tags(root, new, last)
        if not push or push_tags(root, remote, [tag.name for tag in new]):
            return new
        delete_local_tags(root, [tag.name for tag in new])
    raise InputError(
        f"could not push the tags of {model!r} to {remote} after {attempts} attempts: other "
        "runs keep taking the same names; rerun the job"
    )
