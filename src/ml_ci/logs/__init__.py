"""Serving logs: the contract's columns from a source, reduced to bucket statistics.

One entry point, :func:`open_source`: ``--logs PATH`` (files) overrides ``logs:`` in
``ml-ci.yaml``, which names files (``path``), a SQL database (``sql``) or Prometheus (``prometheus``). Every source gives
the same :class:`~ml_ci.logs.buckets.Buckets` for the same rows (the latency bins are fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ml_ci.config.logs import LogsConfig
from ml_ci.errors import InputError
from ml_ci.logs.buckets import Buckets
from ml_ci.logs.files import FileSource, LogReader, Window, bucketize, first_request

if TYPE_CHECKING:
    from ml_ci.logs.features import FeatureRows


class LogSource(Protocol):
    @property
    def name(self) -> str: ...

    def first_request(self, version: str, window: Window) -> float: ...

    def bucketize(
        self, window: Window, origin: float, width: int, count: int, outcomes: bool
    ) -> Buckets: ...

    def features(
        self, version: str, window: Window, candidates: Sequence[str], limit: int
    ) -> FeatureRows | None:
        """``version``'s input features in ``window`` (:mod:`ml_ci.logs.features`): the
        ``candidates`` the logs hold, at most ``limit`` rows; None when the source keeps no
        per-request rows (Prometheus)."""
        ...


@dataclass
class FileLogs:
    """CSV/Parquet files read with pyarrow datasets (:mod:`ml_ci.logs.files`)."""

    reader: LogReader

    @property
    def name(self) -> str:
        return self.reader.source.path

    def first_request(self, version: str, window: Window) -> float:
        return first_request(self.reader, version, window)

    def bucketize(
        self, window: Window, origin: float, width: int, count: int, outcomes: bool
    ) -> Buckets:
        return bucketize(self.reader, window, origin, width, count, outcomes)

    def features(
        self, version: str, window: Window, candidates: Sequence[str], limit: int
    ) -> FeatureRows:
        from ml_ci.logs.features import read_file_features

        return read_file_features(self.reader, version, window, candidates, limit)


def open_source(logs: LogsConfig, base: Path, override: str | None) -> LogSource:
    """The configured source (``override``: ``--logs PATH``)."""
    if override is None and logs.path is None and logs.sql is not None:
        from ml_ci.logs.sql import SqlLogs

        return SqlLogs(logs.sql, logs.columns)
    if override is None and logs.path is None and logs.prometheus is not None:
        from ml_ci.logs.prometheus import PrometheusLogs

        return PrometheusLogs(logs.prometheus)
    if override is None and logs.path is None:
        raise InputError(
            "logs: no serving logs configured; set logs.path, logs.sql or logs.prometheus in ml-ci.yaml "
            "or pass --logs PATH"
        )
    source = FileSource.from_config(logs, base, override)
    return FileLogs(LogReader(source, logs.columns))


__all__ = ["Buckets", "FileLogs", "LogSource", "Window", "open_source"]
