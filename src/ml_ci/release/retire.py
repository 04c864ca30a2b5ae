"""Take a stage away from a version, and retire a version (GTO's ``deprecate``).

* **Unassign** writes ``{model}#{stage}!#{n}`` at the version's commit: the version no longer
  holds the stage. No new assignment is written (a rollback writes one for the previous
  holder); by GTO's rule "the latest ACTIVE assignment wins" the stage then falls to the
  version whose own assignment is the newest still standing, if any (after the usual flow,
  the production version, which was the canary before). A canary rolled back by
  ``ml-ci canary --apply`` is unassigned; the production stage is untouched.
* **Retire** writes ``{model}@v{semver}!`` at the version's commit (``gto deprecate MODEL
  VERSION``: the version is deregistered and ``gto show`` no longer lists it as active), with
  the reason in the tag message. It is refused while the version holds a stage, unless
  ``force``, which first unassigns each of its stages and says so.

Both go through :func:`ml_ci.release.apply.apply_tags` (plan, create, push, re-plan on a lost
race) and are idempotent: a second run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_ci.errors import InputError
from ml_ci.registry import ModelState, load_registry
from ml_ci.registry.tags import format_message, next_counter, normalize_version
from ml_ci.release.apply import apply_tags, sync
from ml_ci.release.gitops import NewTag


@dataclass
class LifecycleResult:
    model: str
    version: str
    unassigned: list[str] = field(default_factory=list)  # stages taken away
    retired: bool = False
    tags: list[str] = field(default_factory=list)
    # stage -> the version that holds it now (None: nobody): GTO's rule gives a stage taken
    # away to the newest assignment still standing, which may be a version rolled back from
    falls_to: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "unassigned": self.unassigned,
            "retired": self.retired,
            "tags": self.tags,
            "falls_to": self.falls_to,
        }

    def fallback_lines(self) -> list[str]:
        """What each stage taken away falls back to, in words (for the command's output)."""
        lines = []
        for stage, holder in self.falls_to.items():
            if holder is None:
                lines.append(f"{stage} is now held by no version")
            else:
                lines.append(
                    f"{stage} now falls back to {holder} (the newest assignment still standing); "
                    f"if that is not what you want: ml-ci promote --to {stage} --version VERSION"
                )
        return lines


def _falls_to(root: Path, model: str, stages: list[str]) -> dict[str, str | None]:
    state = load_registry(root).get(model)
    holders = state.stages if state else {}
    return {stage: holders[stage].version if stage in holders else None for stage in stages}


def stages_of(state: ModelState, version: str) -> list[str]:
    """The stages ``version`` holds now."""
    return sorted(stage for stage, holder in state.stages.items() if holder.version == version)


def _version(root: Path, model: str, version: str) -> tuple[ModelState, str, str]:
    state = load_registry(root).get(model)
    wanted = normalize_version(version)
    info = state.versions.get(wanted) if state else None
    if state is None or info is None:
        raise InputError(f"{model} {wanted} is not a registered version (see ml-ci registry show)")
    return state, wanted, info.commit


def unassign_planner(
    model: str, version: str, stages: list[str], fields: dict[str, str], retire: bool
) -> Callable[[ModelState | None, list[str]], list[NewTag]]:
    """Unassign each of ``stages`` still held by ``version``; then deregister it if ``retire``."""

    def plan(state: ModelState | None, names: list[str]) -> list[NewTag]:
        if state is None or version not in state.versions:
            return []
        info = state.versions[version]
        new: list[NewTag] = []
        counter = next_counter(names, model)
        for stage in stages:
            holder = state.stages.get(stage)
            if holder is None or holder.version != version:
                continue
            title = f"ml-ci: unassign {stage} from {model} {version}"
            new.append(
                NewTag(f"{model}#{stage}!#{counter}", info.commit, format_message(title, fields))
            )
            counter += 1
        if retire and info.active:
            title = f"ml-ci: retire {model} {version}"
            new.append(NewTag(f"{model}@{version}!", info.commit, format_message(title, fields)))
        return new

    return plan


def unassign(
    root: Path,
    model: str,
    version: str,
    stage: str,
    *,
    reason: str,
    remote: str = "origin",
    push: bool = True,
) -> LifecycleResult:
    """Take ``stage`` away from ``version`` (nothing when it does not hold it)."""
    sync(root, remote, push, model)
    _, wanted, _ = _version(root, model, version)
    plan = unassign_planner(model, wanted, [stage], {"reason": reason}, retire=False)
    new = apply_tags(root, model, plan, remote=remote, push=push)
    taken = [stage] if new else []
    return LifecycleResult(
        model,
        wanted,
        unassigned=taken,
        tags=[t.name for t in new],
        falls_to=_falls_to(root, model, taken),
    )


def retire(
    root: Path,
    model: str,
    version: str,
    *,
    reason: str,
    force: bool = False,
    remote: str = "origin",
    push: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LifecycleResult:
    """Deregister ``version`` (see the module doc); ``force`` first unassigns its stages."""
    say = progress or (lambda _message: None)
    if not reason.strip():
        raise InputError("ml-ci retire needs --reason TEXT (it goes into the tag message)")
    sync(root, remote, push, model)
    state, wanted, _ = _version(root, model, version)
    held = stages_of(state, wanted)
    if held and not force:
        raise InputError(
            f"{model} {wanted} holds {', '.join(held)}; promote another version first, or pass "
            "--force to unassign those stages and retire it"
        )
    for stage in held:
        say(f"unassigning {stage} from {model} {wanted} first (--force)")
    plan = unassign_planner(model, wanted, held, {"reason": reason}, retire=True)
    new = apply_tags(root, model, plan, remote=remote, push=push)
    after = load_registry(root)[model]
    taken = [t.name.split("#")[1].rstrip("!") for t in new if "#" in t.name]
    return LifecycleResult(
        model,
        wanted,
        unassigned=taken,
        retired=not after.versions[wanted].active,
        tags=[t.name for t in new],
        falls_to=_falls_to(root, model, taken),
    )
