"""Config of the serving logs (``logs:``), shared by ``ml-ci canary`` and ``ml-ci monitor``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ml_ci.config.base import Section


class LogColumns(Section):
    """Column names of the serving-log contract (one row per served request)."""

    timestamp: str = Field(
        "timestamp", description="Request time (UTC): ISO-8601, epoch s, or a timestamp."
    )
    model_version: str = Field("model_version", description="Registry version that served it.")
    latency_ms: str = Field("latency_ms", description="Serving latency in milliseconds.")
    error: str = Field("error", description="1 when the request failed, else 0.")
    request_id: str = Field("request_id", description="Optional unique id (duplicates are errors).")
    y_pred: str = Field("y_pred", description="The model's label (predictions contract).")
    y_score: str = Field("y_score", description="The model's score of the positive class.")
    y_true: str = Field("y_true", description="The outcome; null until it has arrived.")
    label_time: str = Field("label_time", description="Optional: when the outcome arrived.")


class SqlLogsConfig(Section):
    """A SQL database through SQLAlchemy. The URL is read from the environment variable named
    here (the secret never goes in the config)."""

    url_env: str = Field(
        "ML_CI_LOGS_URL",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the SQLAlchemy URL.",
    )
    table: str = Field(
        ...,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
        description="Table (or schema.table) of the serving logs.",
    )


class LogsConfig(Section):
    """Where the serving logs are. ``path``: a file, a glob, or a (hive-partitioned) folder of
    CSV or Parquet files, relative to the folder of ``ml-ci.yaml``."""

    path: str | None = Field(None, description="File, glob or folder of CSV/Parquet logs.")
    format: Literal["parquet", "csv"] | None = Field(
        None, description="File format (default: from the file extension)."
    )
    sql: SqlLogsConfig | None = Field(None, description="Logs in a SQL database instead.")
    columns: LogColumns = Field(default_factory=LogColumns)

    @model_validator(mode="after")
    def _one_source(self) -> LogsConfig:
        if self.path is not None and self.sql is not None:
            raise ValueError("give either logs.path or logs.sql, not both")
        return self
