"""Config of the first stages: the model artifact, data pull, reproduction, prediction."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_ci.config.base import Section

Task = Literal["binary", "multiclass", "regression"]


class ModelConfig(Section):
    """The model ml-ci evaluates and releases."""

    name: str = Field(
        "model",
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
        description="Model name, used in release tags ({name}@v1.2.3); lowercase, digits, dashes.",
    )
    path: str | None = Field(
        None,
        description="Path of the model artifact (a DVC-tracked output), e.g. models/model.pkl.",
    )
    description: str | None = None


class DataConfig(Section):
    """What ``ml-ci pull`` fetches."""

    targets: list[str] = Field(
        default_factory=list, description="DVC targets to pull; empty pulls everything."
    )
    remote: str | None = Field(None, description="DVC remote name; default: the repo's default.")
    jobs: int | None = Field(None, ge=1, description="Parallel transfers (dvc pull --jobs).")
    retries: int = Field(3, ge=0, le=10, description="Retries of a transient remote failure.")


class PredictionsConfig(Section):
    """The predictions-table contract: where the table is and what its columns are called."""

    path: str = Field(
        "predictions.csv", description="The candidate's predictions table (CSV or Parquet)."
    )
    id: str = Field("id", description="Row id column; baseline and candidate join on it.")
    y_true: str = Field("y_true", description="True label (or target for regression).")
    y_pred: str = Field("y_pred", description="Predicted label (or value for regression).")
    y_score: str = Field(
        "y_score",
        description="Binary: probability of the positive class. Multiclass: prefix of one "
        "column per class, {y_score}_<class>.",
    )
    latency: str | None = Field(None, description="Optional per-row latency column, in ms.")


class ToleranceConfig(Section):
    """Metric tolerance for models that are not byte-reproducible."""

    metrics: list[str] = Field(
        ...,
        min_length=1,
        description="DVC metrics files (JSON/YAML) to compare, e.g. metrics.json.",
    )
    abs: float = Field(1e-9, ge=0, description="Allowed absolute difference per metric.")
    rel: float = Field(0.0, ge=0, description="Allowed relative difference per metric.")


class ReproConfig(Section):
    """How ``ml-ci repro`` reproduces and verifies."""

    targets: list[str] = Field(
        default_factory=list, description="Stages to reproduce; empty means the whole pipeline."
    )
    runs: int = Field(1, ge=1, le=5, description="Runs to compare for determinism (--runs).")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment for the pinned run (overrides the defaults).",
    )
    tolerance: ToleranceConfig | None = Field(
        None, description="Compare declared metrics within tolerance instead of output bytes."
    )


class BaselineConfig(Section):
    """Where the baseline model comes from."""

    ref: str | None = Field(
        None, description="Git ref of the baseline; default: merge-base with the default branch."
    )
    stage: str | None = Field(
        None, description="Use the model version now at this registry stage (e.g. production)."
    )
    default_branch: str = Field("main", description="The repository's default branch.")


class PredictConfig(Section):
    """How to score a model on data, used to score the baseline on the candidate's rows."""

    command: str | None = Field(
        None,
        description="Shell command template with {model}, {data} and {output}, e.g. "
        "'python src/predict.py --model {model} --data {data} --output {output}'.",
    )
    data: str | None = Field(
        None, description="Evaluation data the predict command reads (the candidate's)."
    )
