"""Config of the serving logs (``logs:``), shared by ``ml-ci canary`` and ``ml-ci monitor``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ml_ci.config.base import Section
from ml_ci.config.durations import parse_duration

_METRIC = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
_LABEL = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# label matchers: name op "value" (double-quoted, escapes allowed), comma-separated
_MATCHER = r'[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"'
_SELECTOR = rf"^\s*(?:{_MATCHER}(?:\s*,\s*{_MATCHER})*\s*,?\s*)?$"


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


class PrometheusLogsConfig(Section):
    """Operational signals (requests, errors, a latency histogram) from a Prometheus server,
    read as raw counter samples (no ``rate``/``increase``/``histogram_quantile``)."""

    url: str | None = Field(
        None, pattern=r"^https?://", description="Base URL, e.g. http://prometheus:9090."
    )
    url_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Or: environment variable holding the base URL.",
    )
    requests: str = Field(
        "ml_requests_total", pattern=_METRIC, description="Counter of requests served."
    )
    errors: str = Field(
        "ml_request_errors_total", pattern=_METRIC, description="Counter of failed requests."
    )
    latency: str = Field(
        "ml_request_latency_ms",
        pattern=_METRIC,
        description="Histogram base name (<name>_bucket with le).",
    )
    latency_unit: Literal["ms", "s"] = Field("ms", description="Unit of the histogram's le.")
    version_label: str = Field(
        "model_version", pattern=_LABEL, description="Label holding the registry version."
    )
    selector: str = Field(
        "",
        pattern=_SELECTOR,
        description='Extra label matchers, e.g. model="churn",env="prod".',
    )
    lookback: str = Field(
        "7d", description="How far back the canary's first request is searched (no --since)."
    )
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds per HTTP request.")

    @model_validator(mode="after")
    def _one_url(self) -> PrometheusLogsConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give either url or url_env")
        parse_duration(self.lookback)
        return self


class LogsConfig(Section):
    """Where the serving logs are. ``path``: a file, a glob, or a (hive-partitioned) folder of
    CSV or Parquet files, relative to the folder of ``ml-ci.yaml``."""

    path: str | None = Field(None, description="File, glob or folder of CSV/Parquet logs.")
    format: Literal["parquet", "csv"] | None = Field(
        None, description="File format (default: from the file extension)."
    )
    sql: SqlLogsConfig | None = Field(None, description="Logs in a SQL database instead.")
    prometheus: PrometheusLogsConfig | None = Field(
        None, description="Operational signals from Prometheus instead (no quality metrics)."
    )
    columns: LogColumns = Field(default_factory=LogColumns)

    @model_validator(mode="after")
    def _one_source(self) -> LogsConfig:
        given = [key for key in ("path", "sql", "prometheus") if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of logs.path, logs.sql, logs.prometheus, not {given}")
        return self
