"""Evaluation records for release tests: what the pull request's run would have written."""

from __future__ import annotations

from pathlib import Path

from ml_ci.dvcrepo import read_lock_at
from ml_ci.lineage import model_artifact
from ml_ci.record import (
    CompareSection,
    EvaluationRecord,
    GateResult,
    RepoInfo,
    save_record,
)

MODEL_PATH = "models/model.pkl"


def write_record(
    root: Path,
    sha: str,
    path: Path,
    *,
    verdict: str = "pass",
    artifact_hash: str | None = None,
    pull_request: int | None = 1,
) -> EvaluationRecord:
    """A record of ``sha``: its model artifact from dvc.lock and a compare verdict."""
    artifact = model_artifact(root, read_lock_at(root, sha), sha, MODEL_PATH)
    if artifact_hash is not None:
        artifact = artifact.model_copy(update={"hash": artifact_hash})
    record = EvaluationRecord(
        model="breast-cancer",
        artifact=artifact,
        repo=RepoInfo(head_sha=sha, pull_request=pull_request),
        compare=CompareSection(
            verdict=verdict,  # type: ignore[arg-type]
            gates=[
                GateResult(metric="roc_auc", rule="non_inferior", margin=0.02, verdict=verdict)  # type: ignore[arg-type]
            ],
        ),
    )
    save_record(path, record)
    return record
