"""The model registry, read offline from the repository's annotated git tags (GTO semantics).

State rules (as GTO 1.x computes them, so ``gto show`` agrees):

* tags are read in tagger-date order (one-second resolution; ml-ci never writes two tags of
  a model in the same second, see :mod:`ml_ci.release.gitops`);
* a version is active when its latest ``@v`` event is a registration (not ``@v…!``);
* an assignment tag applies to the version registered at the tagged commit;
* per (version, stage) the latest event decides: assignment -> holds the stage,
  unassignment -> does not;
* per stage the version with the LATEST active assignment holds it ("latest wins"), so
  assigning an older version again (a rollback) moves the stage back to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ml_ci.errors import InputError
from ml_ci.gitutil import git
from ml_ci.registry.tags import ParsedTag, parse_message, parse_tag
from ml_ci.registry.versioning import highest

# %(…) fields of `git for-each-ref`, separated by US (0x1f), records ended by RS (0x1e)
_FIELDS = (
    "%(refname:strip=2)",
    "%(objecttype)",
    "%(*objectname)",
    "%(taggerdate:unix)",
    "%(taggername)",
    "%(taggeremail)",
    "%(contents)",
)
_FORMAT = "%1f".join(_FIELDS) + "%1e"


@dataclass(frozen=True)
class TagInfo:
    """One annotated registry tag."""

    name: str
    parsed: ParsedTag
    commit: str
    time: int  # tagger date, unix seconds
    tagger: str
    message: str

    @property
    def fields(self) -> dict[str, str]:
        return parse_message(self.message)


@dataclass
class VersionInfo:
    version: str
    commit: str
    tag: str
    registered_at: int
    active: bool = True
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StageHolder:
    stage: str
    version: str
    commit: str
    tag: str
    assigned_at: int


@dataclass
class ModelState:
    name: str
    versions: dict[str, VersionInfo] = field(default_factory=dict)
    stages: dict[str, StageHolder] = field(default_factory=dict)
    history: list[TagInfo] = field(default_factory=list)  # oldest first
    deprecated: bool = False

    @property
    def latest(self) -> str | None:
        """Highest active version by semver (what ``gto show`` calls the model's version)."""
        return highest(v.version for v in self.versions.values() if v.active)

    def version_at(self, commit: str) -> VersionInfo | None:
        for info in self.versions.values():
            if info.commit == commit:
                return info
        return None

    def stage_history(self, stage: str) -> list[StageHolder]:
        """Every assignment of ``stage``, newest first."""
        found = []
        for tag in reversed(self.history):
            if tag.parsed.action == "assign" and tag.parsed.stage == stage:
                owner = self.version_at(tag.commit)
                version = owner.version if owner else tag.commit
                found.append(StageHolder(stage, version, tag.commit, tag.name, tag.time))
        return found

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "latest": self.latest,
            "deprecated": self.deprecated,
            "versions": [
                {
                    "version": v.version,
                    "commit": v.commit,
                    "tag": v.tag,
                    "registered_at": v.registered_at,
                    "active": v.active,
                    "record_digest": v.fields.get("record-digest"),
                    "pull_request": v.fields.get("pull-request"),
                }
                for v in sorted(self.versions.values(), key=lambda v: v.registered_at)
            ],
            "stages": {
                s.stage: {
                    "version": s.version,
                    "commit": s.commit,
                    "tag": s.tag,
                    "assigned_at": s.assigned_at,
                }
                for s in sorted(self.stages.values(), key=lambda s: s.stage)
            },
        }


def read_tags(root: Path) -> list[TagInfo]:
    """Every annotated registry tag in ``root``, oldest first (ties: by name, as listed)."""
    out = git(["for-each-ref", "--sort=refname", f"--format={_FORMAT}", "refs/tags"], root)
    tags: list[TagInfo] = []
    for record in out.split("\x1e"):
        parts = record.lstrip("\n").split("\x1f")
        if len(parts) != len(_FIELDS):
            continue
        name, kind, commit, when, tagger, _email, message = parts
        parsed = parse_tag(name)
        if parsed is None or kind != "tag" or not commit or not when:
            continue  # GTO ignores lightweight tags too
        tags.append(TagInfo(name, parsed, commit, int(when), tagger, message))
    tags.sort(key=lambda t: t.time)  # stable: same-second ties keep name order
    return tags


def build_state(tags: list[TagInfo]) -> dict[str, ModelState]:
    """The registry state of every model, from tags sorted oldest first (pure)."""
    models: dict[str, ModelState] = {}
    # (model, version, stage) -> latest event time and whether it was an assignment
    vstage: dict[tuple[str, str, str], tuple[int, bool, TagInfo]] = {}
    for tag in tags:
        parsed = tag.parsed
        state = models.setdefault(parsed.model, ModelState(parsed.model))
        state.history.append(tag)
        if parsed.action == "deprecate":
            state.deprecated = True
        elif parsed.action in ("register", "deregister") and parsed.version:
            info = state.versions.get(parsed.version)
            if info is None:
                info = VersionInfo(parsed.version, tag.commit, tag.name, tag.time)
                state.versions[parsed.version] = info
            info.active = parsed.action == "register"
            if info.active:
                info.fields = tag.fields
        elif parsed.action in ("assign", "unassign") and parsed.stage:
            owner = state.version_at(tag.commit)
            version = owner.version if owner else tag.commit  # GTO: an unregistered version
            vstage[(parsed.model, version, parsed.stage)] = (
                tag.time,
                parsed.action == "assign",
                tag,
            )
    for (model, version, stage), (when, assigned, tag) in vstage.items():
        state = models[model]
        info = state.versions.get(version)
        if not assigned or (info is not None and not info.active):
            continue
        current = state.stages.get(stage)
        if current is None or when >= current.assigned_at:
            state.stages[stage] = StageHolder(stage, version, tag.commit, tag.name, when)
    return models


def load_registry(root: Path) -> dict[str, ModelState]:
    """Models, versions and stages of the repository at ``root`` (offline: local tags)."""
    return build_state(read_tags(root))


def version_at_stage(root: Path, model: str, stage: str) -> tuple[str, str]:
    """``(version, commit_sha)`` of ``model`` at ``stage`` (for ``baseline: {stage: …}``).

    Raises :class:`InputError` when no version holds that stage.
    """
    state = load_registry(root).get(model)
    holder = state.stages.get(stage) if state else None
    if holder is None:
        raise InputError(
            f"no version of model {model!r} is at stage {stage!r} in the git tags of {root}; "
            "fetch the tags (git fetch --tags), promote a version (ml-ci promote), "
            "or set baseline.ref instead of baseline.stage"
        )
    return holder.version, holder.commit
