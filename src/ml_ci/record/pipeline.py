"""Record sections written by the first stages: repository, lineage, reproduction."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ml_ci.record.base import RecordModel


class RepoInfo(RecordModel):
    """Where and at which commits the evaluation ran."""

    name: str | None = Field(None, description="owner/name on GitHub, when known.")
    head_sha: str | None = Field(
        None,
        description="The commit under review: the pull request's head (pull_request.head.sha "
        "of the event), or the pushed commit; approvals and statuses go on it.",
    )
    evaluated_sha: str | None = Field(
        None,
        description="The commit actually checked out and evaluated: on a pull_request event "
        "GitHub's test-merge of head into base (schema_version 2; absent in version 1).",
    )
    base_sha: str | None = None
    head_ref: str | None = None
    base_ref: str | None = None
    pull_request: int | None = None
    run_url: str | None = None


class LineageEntry(RecordModel):
    """One DVC-tracked file or folder and its content hash."""

    path: str
    hash: str | None = Field(None, description="DVC content hash (md5; folders end in .dir).")
    stage: str | None = Field(None, description="Stage that uses (dep) or makes (out) it.")
    kind: Literal["dep", "out", "data"] = "dep"
    size: int | None = None
    base_hash: str | None = Field(
        None, description="The same path's hash at the base commit (null: absent there)."
    )
    changed: bool | None = Field(
        None, description="The hash differs from the base's (null: no base to compare with)."
    )


class ParamChange(RecordModel):
    """A parameter whose value differs between base and head."""

    file: str
    key: str
    base: Any = None
    head: Any = None


class Lineage(RecordModel):
    deps: list[LineageEntry] = Field(default_factory=list)
    outs: list[LineageEntry] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict, description="file -> params at head.")
    params_diff: list[ParamChange] = Field(default_factory=list)
    removed: list[LineageEntry] = Field(
        default_factory=list, description="Tracked at the base commit, gone at head."
    )
    base_sha: str | None = Field(None, description="The commit the hashes were compared with.")
    stage_params: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="stage -> params file -> the keys the stage depends on (from dvc.lock); "
        "the lineage graph links changed parameters to their stages.",
    )


class OutputCheck(RecordModel):
    """One reproduced output compared with what ``dvc.lock`` (or the first run) says."""

    path: str
    stage: str | None = None
    expected: str | None = None
    actual: str | None = None
    match: bool
    detail: str | None = None


RecordReproVerdict = Literal["verified", "mismatch", "nondeterministic", "within_tolerance"]


class ReproSection(RecordModel):
    verdict: RecordReproVerdict
    runs: int = 1
    mode: Literal["bytes", "tolerance"] = "bytes"
    stages: list[str] = Field(default_factory=list)
    outputs: list[OutputCheck] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="The pinned environment.")
    duration_s: float | None = None
    restore: str | None = Field(
        None, description="Command that restores the committed outputs after a failure."
    )
