"""``ml-ci release``: register the merged model version and assign it to the canary stage.

Run on a push to the default branch, in the trusted context of the base repository. The
record evaluated on the pull request reaches this run as a file (e.g. a downloaded
artifact), so it is treated as a CLAIM and checked against what this run can see itself:

1. the commit is the merge of a pull request (``GET /repos/{repo}/commits/{sha}/pulls``)
   whose head repository is the base repository: a pull request from a fork never causes
   a release or a tag (a maintainer who wants it pushes the change to a branch of the
   base repository and opens a new pull request, which is then evaluated and approved);
2. the gates and the drift verdict are RECOMPUTED here for the merged commit, with the
   configuration of its first parent (:mod:`ml_ci.release.recompute`): both models scored
   with ``predict.command`` on the merged evaluation data, then ``compare`` and ``drift``;
   they must pass. The pull request's record is a claim that may only refuse (its head SHA
   must be the pull request's head, its gates must have passed, a claim of drift adds the
   need for approval); it is shown beside the recomputed record, never obeyed. Where
   recomputation is impossible the release is refused unless the first parent's config
   sets ``release.trust_record: true`` (a documented risk);
3. governance is satisfied at the head SHA -- approvals are fetched again from the API,
   never read from the record -- under the first parent's governance rules; a change to
   ``ml-ci.yaml``, or to the catalog or model-card file the first parent's config names,
   needs an approval (:func:`ml_ci.governance.rules.governed_files`, as in approve-status);
4. the model artifact in the merged tree has the DVC hash the record evaluated (from
   ``dvc.lock``/``.dvc`` files of the merge commit): nobody swapped the model after review.

Then ``{model}@v{semver}`` and ``{model}#{stage}#{n}`` are tagged (annotated, messages with
the recomputed record's digest, verdict, approvers, data hashes) and pushed atomically, and a
GitHub release is created with the notes and the assets: the recomputed record, the canary
manifest, the pull request's claimed record, and ``MODEL_CARD.md`` -- the model card built
from the recomputed record (:mod:`ml_ci.report.model_card`), with the intended use and
limitations of ``governance.model_card`` (the first parent's key, the file as merged). The
card is also written next to the record (``ml-ci-model-card.md``), online and ``--offline``.

Idempotent: when a version of the model is already registered at the commit, nothing new
is tagged (a missing stage tag or GitHub release asset is completed) and the result is 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.errors import GateFailed, InputError
from ml_ci.gitutil import rev_parse
from ml_ci.governance.report import to_section
from ml_ci.governance.rules import (
    Outcome,
    describe_changes,
    evaluate,
    governance_required,
    governed_changes,
    inconclusive_let_pass,
    offline_permissions,
    votes_from_cli,
)
from ml_ci.record.release import ReleaseSection
from ml_ci.registry import ModelState
from ml_ci.registry.tags import format_message, next_counter, stage_tag, version_tag
from ml_ci.registry.versioning import Bump, bump_from_labels, next_version
from ml_ci.release.apply import apply_tags, sync
from ml_ci.release.gitops import NewTag

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.github.client import GitHubClient
    from ml_ci.governance.github import PullInfo
    from ml_ci.record import EvaluationRecord
    from ml_ci.release.recompute import Recomputed

MANIFEST_FILE = "ml-ci-canary.json"
RECORD_ASSET = "ml-ci-record.json"
MANIFEST_ASSET = "canary-manifest.json"
CLAIMED_FILE = "ml-ci-record.claimed.json"  # asset: the pull request's record, beside ours
CARRIED_FILE = "ml-ci-record.release.json"  # local: the recomputed record the release carries
# local: the card (not MODEL_CARD.md, which may be the team's own file, even governance.model_card)
CARD_FILE = "ml-ci-model-card.md"
MAX_DATA_HASHES = 20


@dataclass
class ReleaseSettings:
    root: Path
    config: Config
    record_path: Path
    commit: str = "HEAD"
    repo: str | None = None
    offline: bool = False
    approved_by: tuple[str, ...] = ()
    bump: Bump | None = None
    remote: str = "origin"
    push: bool = True
    manifest_path: Path | None = None
    config_file: str = "ml-ci.yaml"  # the config's path in the repository (read at P)


@dataclass
class ReleaseResult:
    model: str
    version: str
    stage: str
    commit: str
    created: bool
    tags: list[str] = field(default_factory=list)
    pull_request: int | None = None
    approved_by: list[str] = field(default_factory=list)
    release_url: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    recomputed: bool = False  # False only under release.trust_record
    claimed: dict[str, Any] = field(default_factory=dict)  # the PR record's verdicts
    model_card: str | None = None  # where the card was written

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "commit": self.commit,
            "created": self.created,
            "tags": self.tags,
            "pull_request": self.pull_request,
            "approved_by": self.approved_by,
            "release_url": self.release_url,
            "manifest": self.manifest,
            "recomputed": self.recomputed,
            "claimed": self.claimed,
            "model_card": self.model_card,
        }


# ---------------------------------------------------------------------- pure checks
def gates_passed(record: EvaluationRecord, inconclusive: str) -> str | None:
    """Why the record's gates do not allow a release (``None``: they do)."""
    if record.repro is not None and record.repro.verdict in ("mismatch", "nondeterministic"):
        return f"reproduction was {record.repro.verdict}: the model is not verified"
    if record.compare is None:
        return "the record has no compare section; run ml-ci compare on the pull request"
    verdict = record.compare.verdict
    if verdict == "pass" or (verdict == "inconclusive" and inconclusive in ("pass", "warn")):
        return None
    failed = [
        g.metric + (f" [{g.slice}]" if g.slice else "")
        for g in record.compare.gates
        if g.verdict != "pass"
    ]
    return f"the gates did not pass ({verdict}: {', '.join(failed) or 'see the report'})"


def tag_fields(
    record: EvaluationRecord,
    approved_by: list[str],
    pull_request: int | None,
    data: list[tuple[str, str]],
) -> dict[str, str]:
    """The ``key: value`` lines of ml-ci's tag messages (``data``: (path, hash) pairs)."""
    from ml_ci.record import record_digest

    fields = {
        "record-digest": f"sha256:{record_digest(record)}",
        "verdict": record.compare.verdict if record.compare else "unknown",
        "approvers": ", ".join(approved_by) or "-",
        "pull-request": str(pull_request) if pull_request else "",
        "head-sha": record.repo.head_sha or "",
    }
    if record.artifact is not None:
        fields["artifact"] = f"{record.artifact.path} {record.artifact.hash or '?'}"
    fields["data"] = ", ".join(f"{path}={value}" for path, value in data[:MAX_DATA_HASHES])
    if record.environment is not None:  # the base of the next pull request's environment diff
        from ml_ci.fingerprint import tag_value

        fields["environment"] = tag_value(record.environment.model_dump())
    return fields


def data_hashes(root: Path, commit: str) -> list[tuple[str, str]]:
    """(path, DVC hash) of the DVC-tracked data in the tree of ``commit``: ``.dvc`` files and
    stage dependencies that DVC tracks (another stage's output), not code. Read in this run
    from the merged tree rather than taken from the record."""
    from ml_ci.dvcrepo import dvc_files_at, read_lock_at

    lock = read_lock_at(root, commit)
    added = dvc_files_at(root, commit)
    tracked = {entry.path for entry in added} | {e.path for e in (lock.outs() if lock else [])}
    deps = [entry for entry in (lock.deps() if lock else []) if entry.path in tracked]
    return sorted({e.path: e.hash for e in [*added, *deps] if e.hash}.items())


def release_planner(
    model: str,
    commit: str,
    stage: str,
    bump: Bump,
    fields: dict[str, str],
) -> Callable[[ModelState | None, list[str]], list[NewTag]]:
    """Plan the tags of a release (or only the missing stage tag when it was released)."""

    def plan(state: ModelState | None, names: list[str]) -> list[NewTag]:
        existing = state.version_at(commit) if state else None
        if existing is not None:
            assigned = any(
                t.parsed.action == "assign" and t.parsed.stage == stage and t.commit == commit
                for t in (state.history if state else [])
            )
            if assigned:
                return []
            version = existing.version
            new: list[NewTag] = []
        else:
            taken = [v for v in (state.versions if state else {})]
            taken += [n.split("@", 1)[1].rstrip("!") for n in names if n.startswith(f"{model}@v")]
            version = next_version(taken, bump)
            title = f"ml-ci: register {model} {version}"
            new = [NewTag(version_tag(model, version), commit, format_message(title, fields))]
        counter = next_counter(names, model)
        title = f"ml-ci: assign {stage} to {model} {version}"
        new.append(NewTag(stage_tag(model, stage, counter), commit, format_message(title, fields)))
        return new

    return plan


# ---------------------------------------------------------------------- the release
def execute(
    settings: ReleaseSettings,
    client: GitHubClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> ReleaseResult:
    """Check, tag, push and publish (see the module doc). Refusals raise :class:`GateFailed`."""
    from ml_ci.lineage import model_artifact
    from ml_ci.record import load_record
    from ml_ci.registry import load_registry
    from ml_ci.report.model_card import intended_use_at, model_card

    say = progress or (lambda _message: None)
    config = settings.config
    model = config.model.name
    stage = config.release.stage
    root = settings.root
    commit = rev_parse(root, settings.commit)
    if not settings.offline and (client is None or not settings.repo):
        raise InputError("ml-ci release needs --repo OWNER/NAME and GITHUB_TOKEN (or --offline)")

    # already released at this commit? then only complete what is missing
    sync(root, settings.remote, settings.push, model)
    before = load_registry(root).get(model)
    done = before.version_at(commit) if before else None
    claimed = load_record(settings.record_path)

    pull: PullInfo | None = None
    if done is None:
        pull = _find_pull(settings, client, commit, say)
    again, config, config_changed = _rederive(settings, commit, pull, claimed, say)
    stage = config.release.stage  # the first parent's settings apply, as its gates do
    # read before anything is tagged: a missing file stops the release, not half of it
    intended = intended_use_at(root, commit, config.governance.model_card)
    record = again.record if again is not None else claimed
    if done is None:
        _check_record(settings, config, claimed, pull, commit)  # a claim may only refuse
        if again is not None:
            problem = gates_passed(record, config.compare.inconclusive)
            if problem:
                raise GateFailed(f"release refused: recomputed at {commit[:7]}: {problem}")
        # the rule approve-status applies: the config or a file it names changed since P
        governed = _governed_changes(settings, commit, config)
        outcome = _governance(
            settings,
            config,
            client,
            record,
            pull,
            # fail closed: a changed ml-ci.yaml or governed file, or a claim of significant
            # drift, adds the need
            extra=config_changed or claimed.needs_human or bool(governed),
        )
        if not outcome.satisfied and governed:
            raise GateFailed(
                f"release refused: the merge changes {describe_changes(governed)}, which needs "
                f"{config.governance.required_approvals} governance approval(s) of the head "
                f"commit ({outcome.summary})"
            )
        if not outcome.satisfied:
            raise GateFailed(f"release refused: governance not satisfied ({outcome.summary})")
        _check_artifact(root, config.model.path, claimed, commit, model_artifact)
        record.governance = to_section(outcome, config.governance, _head(pull, claimed))
        approved = outcome.approved_by
        labels = pull.labels if pull else ()
        kind: Bump = settings.bump or bump_from_labels(labels) or config.release.bump
    else:
        say(f"{model} {done.version} is already registered at {commit[:7]}")
        # an interrupted run of this release: resume with the record it carried, known by the
        # digest its tag holds (the file beside the record may come from the artifact: a claim)
        resumed = _tagged_record(settings.record_path.with_name(CARRIED_FILE), done.fields)
        if resumed is not None:
            record = resumed
        approved = [a.strip() for a in done.fields.get("approvers", "").split(",") if a.strip()]
        approved = [a for a in approved if a != "-"]
        kind = config.release.bump
    number = pull.number if pull else claimed.repo.pull_request
    fields = tag_fields(record, approved, number, data_hashes(root, commit))
    planner = release_planner(model, commit, stage, kind, fields)
    new = apply_tags(root, model, planner, remote=settings.remote, push=settings.push)
    state = load_registry(root)[model]
    info = state.version_at(commit)
    if info is None:  # pragma: no cover - apply_tags guarantees it
        raise InputError(f"{model}: no version at {commit[:7]} after tagging; rerun the release")
    for tag in new:
        say(f"tagged {tag.name}")
    if settings.push:
        _push_missing(root, settings.remote, [t.name for t in state.history if t.commit == commit])

    manifest = canary_manifest(state, info.version, commit, record, config.release.canary_traffic)
    record.release = ReleaseSection(
        model=model,
        version=info.version,
        stage=stage,
        tags=[t.name for t in state.history if t.commit == commit],
        commit=commit,
        artifact_hash=record.artifact.hash if record.artifact else None,
    )
    release_url = None
    card = model_card(
        record,
        task=config.task,
        version=info.version,
        intended_use=intended,
        baseline=again.baseline if again is not None else None,
        note=card_note(commit, again),
    )
    card_path = settings.record_path.with_name(CARD_FILE)
    card_path.write_text(card, encoding="utf-8")
    # saved before publishing: a rerun after a failed upload resumes with this very record
    _save(settings.record_path, record, claimed)
    if not settings.offline and client is not None and settings.repo:
        release_url = publish_github_release(
            client,
            settings.repo,
            version_tag(model, info.version),
            commit,
            release_notes(record, info.version, manifest, card) + claimed_note(claimed, again),
            record,
            manifest,
            claimed if again is not None and claimed is not record else None,
            card,
        )
        record.release.release_url = release_url
    _save(settings.record_path, record, claimed)
    manifest_path = settings.manifest_path or settings.record_path.with_name(MANIFEST_FILE)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ReleaseResult(
        model=model,
        version=info.version,
        stage=stage,
        commit=commit,
        created=bool(new),
        tags=[t.name for t in new],
        pull_request=number,
        approved_by=approved,
        release_url=release_url,
        manifest=manifest,
        recomputed=again is not None,
        claimed=claimed_verdicts(claimed),
        model_card=str(card_path),
    )


def _tagged_record(path: Path, fields: Mapping[str, str]) -> EvaluationRecord | None:
    """The record at ``path`` when its digest is the tag's ``record-digest`` (the record this
    release tagged), else None: a missing, unreadable or different file is not resumed from."""
    from ml_ci.errors import MlCiError
    from ml_ci.record import load_record, record_digest

    if not path.is_file():
        return None
    try:
        record = load_record(path)
    except MlCiError:
        return None
    return record if fields.get("record-digest") == f"sha256:{record_digest(record)}" else None


def _save(path: Path, record: EvaluationRecord, claimed: EvaluationRecord) -> None:
    """``path`` (the record given) gets the release's own governance and release sections;
    when the release recomputed, the record it carries goes next to it
    (``ml-ci-record.release.json``)."""
    from ml_ci.record import save_record

    if record is not claimed:
        save_record(path.with_name(CARRIED_FILE), record)
        claimed.governance = record.governance or claimed.governance
        claimed.release = record.release
    save_record(path, claimed)


def claimed_verdicts(record: EvaluationRecord) -> dict[str, Any]:
    """What the pull request's record claimed (shown, never obeyed)."""
    return {
        "head_sha": record.repo.head_sha,
        "compare": record.compare.verdict if record.compare else None,
        "drift": record.drift.verdict if record.drift else None,
        "needs_human": record.needs_human,
    }


def card_note(commit: str, again: Recomputed | None) -> str:
    """Where the model card's values come from (a line under its title)."""
    if again is None:
        return (
            "NOT recomputed (`release.trust_record: true`): the values below are the pull "
            "request's own record"
        )
    return (
        f"Values recomputed by ml-ci release for `{commit[:12]}` under the configuration of "
        f"`{(again.parent or commit)[:12]}`; the pull request's own record is not used"
    )


def claimed_note(claimed: EvaluationRecord, again: Recomputed | None) -> str:
    """A line for the release notes: what was recomputed, and what the PR claimed."""
    said = claimed_verdicts(claimed)
    if again is None:
        head = "NOT recomputed (release.trust_record: true): the verdicts below are the claim"
    else:
        head = (
            f"recomputed at release with the configuration of {(again.parent or '-')[:7]} "
            f"(baseline {again.baseline[:7]})"
        )
    from ml_ci.report.environment import release_environment_note

    return (
        f"\n\n---\n_{head}; the pull request's record claimed compare "
        f"`{said['compare'] or '-'}`, drift `{said['drift'] or '-'}`._\n"
        + release_environment_note(again.record.environment if again else None, claimed)
    )


def _rederive(
    settings: ReleaseSettings,
    commit: str,
    pull: PullInfo | None,
    claimed: EvaluationRecord,
    say: Callable[[str], None],
) -> tuple[Recomputed | None, Config, bool]:
    """The record recomputed at ``commit`` (see :mod:`.recompute`), the configuration that
    applies (the first parent's) and whether ``commit`` changes it. Without recomputation,
    refuse unless the first parent's configuration sets ``release.trust_record``."""
    from ml_ci.config import load_config_at
    from ml_ci.release.recompute import Unrecomputable, bar, recompute

    root = settings.root
    _, applies = bar(root, commit, settings.config_file)
    try:
        again = recompute(
            root,
            settings.config_file,
            commit,
            head_sha=pull.head_sha if pull else claimed.repo.head_sha,
            pull_request=pull.number if pull else claimed.repo.pull_request,
            repo=settings.repo,
            progress=say,
            claimed_environment=claimed.environment,
        )
    except Unrecomputable as why:
        if applies is None or not applies.release.trust_record:
            raise GateFailed(
                f"release refused: cannot recompute the gates and drift ({why}); fix that, or "
                "set release.trust_record: true to release on the pull request's own record "
                "(a risk: its author controls it)"
            ) from None
        say(f"release.trust_record: releasing on the pull request's record ({why})")
        own = load_config_at(root, commit, settings.config_file)
        changed = own is None or own.model_dump(mode="json") != applies.model_dump(mode="json")
        return None, applies, changed
    return again, again.config, again.config_changed


def _push_missing(root: Path, remote: str, names: list[str]) -> None:
    """Push tags of this release that a crashed earlier run created but never pushed."""
    from ml_ci.release.gitops import push_tags, remote_tags

    there = remote_tags(root, remote)
    missing = [name for name in names if name not in there]
    if missing and not push_tags(root, remote, missing):
        raise InputError(
            f"{remote} refused the tags {', '.join(missing)}; fetch the tags and rerun the release"
        )


def _head(pull: PullInfo | None, record: EvaluationRecord) -> str:
    return pull.head_sha if pull else (record.repo.head_sha or "")


def _find_pull(
    settings: ReleaseSettings,
    client: GitHubClient | None,
    commit: str,
    say: Callable[[str], None],
) -> PullInfo | None:
    if settings.offline or client is None or not settings.repo:
        return None
    from ml_ci.governance.github import merged_pull_for_commit

    pull = merged_pull_for_commit(client, settings.repo, commit)
    if pull is None:
        raise GateFailed(
            f"release refused: {commit[:7]} is not the merge of a pull request in "
            f"{settings.repo}; ml-ci release runs on the push that merges a reviewed pull request"
        )
    say(f"{commit[:7]} merged pull request #{pull.number} (head {pull.head_sha[:7]})")
    if pull.is_fork:
        raise GateFailed(
            f"release refused: pull request #{pull.number} comes from the fork {pull.head_repo}; "
            "a fork's change is never released directly: push it to a branch of "
            f"{settings.repo} and open a pull request from there"
        )
    return pull


def _check_record(
    settings: ReleaseSettings,
    config: Config,
    record: EvaluationRecord,
    pull: PullInfo | None,
    commit: str,
) -> None:
    head = record.repo.head_sha
    if not head:
        raise GateFailed(
            f"release refused: {settings.record_path} does not say which commit it evaluated "
            "(repo.head_sha); use the record of the pull request's run"
        )
    if pull is not None and head != pull.head_sha:
        raise GateFailed(
            f"release refused: {settings.record_path} evaluated {head[:7]}, but pull request "
            f"#{pull.number} merged head {pull.head_sha[:7]}; evaluate the final head"
        )
    problem = gates_passed(record, config.compare.inconclusive)
    if problem:
        raise GateFailed(f"release refused: the pull request's record: {problem}")


def _governed_changes(
    settings: ReleaseSettings, commit: str, config: Config
) -> list[tuple[str, str]]:
    """The governed files (:func:`governed_changes`, keys from P's config) that differ between
    P and ``commit``; none for a first version (no P: nothing to compare with) or under
    ``governance.require: never``, as in approve-status."""
    from ml_ci.gitutil import git
    from ml_ci.release.recompute import bar

    parent, _ = bar(settings.root, commit, settings.config_file)
    if parent is None or config.governance.require == "never":
        return []
    # every changed path, NUL-separated (unquoted), filtered by the rule: a key naming a path
    # outside the repository is then simply never changed, not a git error
    changed = git(["diff", "--name-only", "--no-renames", "-z", parent, commit], settings.root)
    return governed_changes(settings.config_file, config.governance, changed.split("\0"))


def _governance(
    settings: ReleaseSettings,
    config: Config,
    client: GitHubClient | None,
    record: EvaluationRecord,
    pull: PullInfo | None,
    *,
    extra: bool = False,
) -> Outcome:
    required = extra or governance_required(
        config.governance,
        needs_human=record.needs_human,
        inconclusive_let_pass=inconclusive_let_pass(record, config.compare.inconclusive),
    )
    if pull is not None and client is not None:
        from ml_ci.governance.github import evaluate_pull

        return evaluate_pull(client, pull, config.governance, required=required)
    head = record.repo.head_sha or ""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    votes = votes_from_cli(settings.approved_by, head, now)
    return evaluate(
        votes,
        head_sha=head,
        author=None,
        config=config.governance,
        required=required,
        permissions=offline_permissions(settings.approved_by, config.governance),
        teams={},
    )


def _check_artifact(
    root: Path,
    path: str | None,
    record: EvaluationRecord,
    commit: str,
    model_artifact: Callable[..., Any],
) -> None:
    from ml_ci.dvcrepo import read_lock_at

    if not path:
        raise InputError(
            "model.path is not set in ml-ci.yaml; the release needs it to check the artifact"
        )
    expected = record.artifact.hash if record.artifact else None
    if not expected:
        raise GateFailed(
            "release refused: the record has no model artifact hash (artifact.hash); "
            "use the record of the pull request's run"
        )
    actual = model_artifact(root, read_lock_at(root, commit), commit, path).hash
    if actual != expected:
        raise GateFailed(
            f"release refused: {path} in the merged tree {commit[:7]} has hash {actual}, but "
            f"the record evaluated {expected}; the model changed after evaluation"
        )


# ---------------------------------------------------------------------- manifest and notes
def canary_manifest(
    state: ModelState, version: str, commit: str, record: EvaluationRecord, traffic: float
) -> dict[str, Any]:
    """What a deployer needs: the version, its artifact, the canary share, where to go back."""
    from ml_ci.record import record_digest

    production = state.stages.get("production")
    rollback_to = production.version if production and production.version != version else None
    if rollback_to is None:
        older = [h for h in state.stage_history("canary") if h.version != version]
        rollback_to = older[0].version if older else None
    return {
        "model": state.name,
        "version": version,
        "commit": commit,
        "artifact": {
            "path": record.artifact.path if record.artifact else None,
            "hash": record.artifact.hash if record.artifact else None,
        },
        "canary_traffic": traffic,
        "rollback_to": rollback_to,
        "record_digest": f"sha256:{record_digest(record)}",
    }


def release_notes(
    record: EvaluationRecord, version: str, manifest: dict[str, Any], card: str | None = None
) -> str:
    """The GitHub release body: the version's facts, the approvals, then the full report
    (with ``card``, the release's model card, in its ``<details>``)."""
    from ml_ci.governance.report import render_markdown
    from ml_ci.report.render import render
    from ml_ci.report.safe import md_code, md_text

    # the model name, paths and hashes come from the config and record: escaped as text
    artifact = manifest["artifact"]
    lines = [
        f"## {md_text(manifest['model'])} {md_text(version)}",
        "",
        f"- verdict: **{record.compare.verdict if record.compare else 'unknown'}**",
        f"- artifact: {md_code(artifact['path'])} {md_code(artifact['hash'])}",
        f"- canary traffic: {manifest['canary_traffic']:.0%}; roll back to: "
        f"{md_code(manifest['rollback_to']) if manifest['rollback_to'] else '(none)'}",
        f"- record digest: {md_code(manifest['record_digest'])}",
    ]
    if record.governance is not None:
        lines += ["", render_markdown(record.governance)]
    # the release body shares the comment's 65,536-character limit; the report fits it
    return "\n".join(lines) + "\n\n" + render(record, "markdown", limit=60_000, card=card)


def publish_github_release(
    client: GitHubClient,
    repo: str,
    tag: str,
    commit: str,
    notes: str,
    record: EvaluationRecord,
    manifest: dict[str, Any],
    claimed: EvaluationRecord | None = None,
    card: str | None = None,
) -> str:
    """Create (or find) the release of ``tag`` and upload any missing asset; returns its URL.
    Assets: the record, the manifest, the claimed record (when recomputed), ``MODEL_CARD.md``.

    Resumable: the release is found by its tag; an asset already uploaded is kept, one left
    partial (``state`` other than ``uploaded``) is deleted and uploaded again. A lost answer
    or a 5xx is checked against what GitHub now holds before anything is repeated, and an
    error that remains says to rerun the job (which then completes the same release).
    """
    from ml_ci.github.client import GitHubError, Unprocessable, WriteUnconfirmed

    path = f"/repos/{repo}/releases"
    release = _release_by_tag(client, path, tag)
    if release is None:
        body = {"tag_name": tag, "target_commitish": commit, "name": tag, "body": notes}
        try:
            release = client.request("POST", path, json=body).json()
        except (Unprocessable, WriteUnconfirmed) as error:
            # a racing run created it (422), or the answer was lost / a 5xx: did it happen?
            release = _release_by_tag(client, path, tag)
            if release is None:
                raise GitHubError(
                    f"{error}; no release {tag} exists yet: rerun the job (the release resumes)",
                    error.status,
                ) from None
    assert release is not None
    upload = str(release["upload_url"]).split("{", 1)[0]
    from ml_ci.report.model_card import CARD_ASSET

    json_type = "application/json"
    assets = {
        RECORD_ASSET: (record.model_dump_json(indent=2).encode(), json_type),
        MANIFEST_ASSET: (json.dumps(manifest, indent=2).encode(), json_type),
    }
    if claimed is not None:
        assets[CLAIMED_FILE] = (claimed.model_dump_json(indent=2).encode(), json_type)
    if card is not None:
        assets[CARD_ASSET] = (card.encode("utf-8"), "text/markdown; charset=utf-8")
    have = {str(a.get("name")): a for a in release.get("assets") or []}
    for name, (data, kind) in assets.items():
        _ensure_asset(
            client, path, int(release["id"]), upload, name, data, have.get(name), tag, kind
        )
    return str(release.get("html_url") or "")


def _release_by_tag(client: GitHubClient, path: str, tag: str) -> dict[str, Any] | None:
    from ml_ci.github.client import NotFound

    try:
        found: dict[str, Any] = client.get_json(f"{path}/tags/{tag}")
    except NotFound:
        return None
    return found


UPLOAD_ATTEMPTS = 2


def _ensure_asset(
    client: GitHubClient,
    path: str,
    release_id: int,
    upload: str,
    name: str,
    data: bytes,
    existing: dict[str, Any] | None,
    tag: str,
    content_type: str = "application/json",
) -> None:
    """Make ``name`` a complete asset of the release (see :func:`publish_github_release`)."""
    from ml_ci.github.client import GitHubError, Unprocessable, WriteUnconfirmed

    last: GitHubError | None = None
    for _ in range(UPLOAD_ATTEMPTS):
        if existing is not None:
            if existing.get("state", "uploaded") == "uploaded":
                return
            client.request("DELETE", f"{path}/assets/{existing['id']}")  # a partial upload
        try:
            client.request(
                "POST",
                upload,
                params={"name": name},
                data=data,
                headers={"Content-Type": content_type},
                idempotent=False,
            )
            return
        except Unprocessable:  # a racing run uploaded it
            return
        except WriteUnconfirmed as error:  # lost answer or 5xx: look at what GitHub holds
            last = error
            listed = client.get_json(f"{path}/{release_id}/assets", {"per_page": 100})
            existing = next((a for a in listed if a.get("name") == name), None)
    if existing is not None and existing.get("state", "uploaded") == "uploaded":
        return
    raise GitHubError(
        f"{last}; the tags and the release {tag} exist but the asset {name} is missing: "
        "rerun the job (the release resumes)",
        last.status if last else None,
    )
