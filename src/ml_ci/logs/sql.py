"""Serving logs in a SQL database (SQLAlchemy), with the bucket aggregation pushed into it.

The database returns one row per version x bucket x latency bin (``GROUP BY``), never the raw
requests: latency bins with ``width_bucket`` over the SAME fixed edges as the file source
(not ``percentile_cont``), so files and SQL give identical buckets and verdicts. The window and
versions are bound parameters; the table and column names come from the validated config
(identifiers, quoted). The URL is read from the environment variable the config names and is
never printed. Written for PostgreSQL (``width_bucket`` with an array of thresholds).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ml_ci.clock import iso
from ml_ci.config.logs import LogColumns, SqlLogsConfig
from ml_ci.errors import InputError
from ml_ci.logs.buckets import LATENCY_EDGES_MS, SCORE_BINS, Buckets, Stats
from ml_ci.logs.files import Window

if TYPE_CHECKING:
    from ml_ci.logs.features import FeatureRows


class SqlLogs:
    """The ``logs.sql`` source."""

    def __init__(self, config: SqlLogsConfig, columns: LogColumns) -> None:
        self.config = config
        self.columns = columns
        self.name = f"sql {config.table} (${config.url_env})"
        url = os.environ.get(config.url_env, "")
        if not url:
            raise InputError(
                f"logs.sql.url_env: environment variable {config.url_env} is not set; "
                "export the database URL in it (e.g. postgresql+psycopg://user@host/db)"
            )
        from sqlalchemy import create_engine, inspect
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

        try:
            self.engine = create_engine(url, pool_pre_ping=True)
            inspector = inspect(self.engine)
            schema, _, table = config.table.rpartition(".")
            found = inspector.get_columns(table, schema=schema or None)
        except (ArgumentError, NoSuchModuleError, ValueError):
            raise InputError(
                f"logs {self.name}: the URL in {config.url_env} is not a SQLAlchemy URL"
            ) from None
        except SQLAlchemyError as error:
            raise InputError(f"logs {self.name}: {_reason(error)}") from None
        self.present = {column["name"] for column in found}
        self.types = {column["name"]: str(column["type"]).lower() for column in found}

    # -- helpers ---------------------------------------------------------------------------
    def _where(self, key: str) -> str:
        return f"logs {self.name}: column {getattr(self.columns, key)!r} (logs.columns.{key})"

    def _require(self, *keys: str) -> None:
        for key in keys:
            if getattr(self.columns, key) not in self.present:
                raise InputError(
                    f"{self._where(key)} is missing; columns present: "
                    f"{', '.join(sorted(self.present))}"
                )

    def _has(self, key: str) -> bool:
        return getattr(self.columns, key) in self.present

    def _col(self, key: str) -> str:
        name: str = getattr(self.columns, key)
        return '"' + name.replace('"', '""') + '"'

    def _score(self) -> str:
        """The score as float8, NaN as NULL: like the file source, a NaN score is no score
        (PostgreSQL orders NaN above every number, so it would fail the [0, 1] check)."""
        return f"NULLIF({self._col('y_score')}::float8, 'NaN'::float8)"

    def _table(self) -> str:
        return ".".join(f'"{part}"' for part in self.config.table.split("."))

    def _epoch(self, key: str) -> str:
        kind = self.types.get(getattr(self.columns, key), "")
        if "timestamp" in kind:  # naive timestamps are read as UTC, like the file source
            return f"extract(epoch from {self._col(key)})::float8"
        if "char" in kind or "text" in kind:
            raise InputError(
                f"{self._where(key)} is text; store request times as timestamptz in the database"
            )
        return f"{self._col(key)}::float8"

    def _query(self, sql: str, params: dict[str, Any]) -> list[Any]:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        except SQLAlchemyError as error:
            raise InputError(f"logs {self.name}: {_reason(error)}") from None

    def _filters(self, window: Window) -> tuple[str, dict[str, Any]]:
        clauses = [f"{self._col('model_version')}::text = ANY(:versions)"]
        params: dict[str, Any] = {"versions": list(window.versions), "now": window.now}
        if window.since is not None:
            clauses.append(f"{self._epoch('timestamp')} >= :since")
            params["since"] = window.since
        return " AND ".join(clauses), params

    # -- the source protocol ------------------------------------------------------------------
    def first_request(self, version: str, window: Window) -> float:
        self._require("timestamp", "model_version")
        where, params = self._filters(window)
        ts = self._epoch("timestamp")
        late = self._query(
            f"SELECT count(*), min({ts}) FROM {self._table()} WHERE {where} AND {ts} > :future",
            {**params, "future": window.future},
        )[0]
        if late[0]:
            raise InputError(
                f"{self._where('timestamp')}: {late[0]} rows are in the future (after "
                f"{iso(window.future)}; first {iso(float(late[1]))}); fix the serving clock"
            )
        params["version"] = version
        first = self._query(
            f"SELECT min({ts}) FROM {self._table()} WHERE {where} AND {ts} <= :now "
            f"AND {self._col('model_version')}::text = :version",
            params,
        )[0][0]
        if first is None:
            present = [
                str(row[0])
                for row in self._query(
                    f"SELECT DISTINCT {self._col('model_version')}::text FROM {self._table()} "
                    "ORDER BY 1",
                    {},
                )
            ]
            if version in present:
                raise InputError(
                    f"logs {self.name}: version {version!r} has no request in the window "
                    f"(until {iso(window.now)}); widen --since/--now"
                )
            raise InputError(
                f"logs {self.name}: version {version!r} is absent from column "
                f"{self.columns.model_version!r}; versions present: {', '.join(present) or 'none'}"
            )
        return float(first)

    def bucketize(
        self, window: Window, origin: float, width: int, count: int, outcomes: bool
    ) -> Buckets:
        """Buckets computed by the database: ``GROUP BY version, bucket, latency bin``."""
        self._require("timestamp", "model_version", "latency_ms", "error")
        if outcomes:
            self._require("y_true", "y_pred")
        if self._has("request_id"):
            self._check_unique(window)
        where, params = self._filters(window)
        params.update(origin=origin, width=float(width), count=count)
        params["edges"] = [float(edge) for edge in LATENCY_EDGES_MS[:-1]]
        ts, version = self._epoch("timestamp"), f"{self._col('model_version')}::text"
        bucket = f"floor(({ts} - :origin) / :width)::int"
        rows = self._query(
            f"SELECT {version}, {bucket} AS b, "
            f"width_bucket({self._col('latency_ms')}::float8, CAST(:edges AS float8[])) - 1 AS l, "
            f"count(*), sum({self._col('error')}::int), "
            f"sum(CASE WHEN {self._col('error')}::int NOT IN (0, 1) THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {self._col('latency_ms')} IS NULL OR {self._col('latency_ms')} < 0 "
            "THEN 1 ELSE 0 END) "
            f"FROM {self._table()} WHERE {where} AND {ts} <= :now AND {ts} >= :origin "
            f"AND {ts} < :origin + :count * :width GROUP BY 1, 2, 3",
            params,
        )
        versions = list(window.versions)
        bins = len(LATENCY_EDGES_MS) - 1
        stats = {v: Stats.zeros(count) for v in versions}
        for name, b, latency_bin, n, errors, bad_error, bad_latency in rows:
            if bad_error:
                raise InputError(f"{self._where('error')} must be 0 or 1 (1: the request failed)")
            if bad_latency:
                raise InputError(f"{self._where('latency_ms')} has empty or negative values")
            target = stats[name]
            target.requests[b] += n
            target.errors[b] += errors
            target.latency[b, min(max(int(latency_bin), 0), bins - 1)] += n
        if outcomes:
            self._outcomes(window, origin, width, count, stats)
        if self._has("y_score"):
            self._scores(window, origin, width, count, stats)
        return Buckets(origin=int(origin), width=width, count=count, versions=stats)

    def _outcomes(
        self, window: Window, origin: float, width: int, count: int, stats: dict[str, Stats]
    ) -> None:
        where, params = self._filters(window)
        params.update(origin=origin, width=float(width), count=count)
        ts = self._epoch("timestamp")
        arrived = (
            f"greatest(coalesce({self._epoch('label_time')}, {ts}), {ts})"
            if self._has("label_time")
            else ts
        )
        truth, pred = f"{self._col('y_true')}::float8", f"{self._col('y_pred')}::float8"
        score = self._score() if self._has("y_score") else "NULL::float8"
        bucket = f"floor(({arrived} - :origin) / :width)::int"
        rows = self._query(
            f"SELECT {self._col('model_version')}::text, {bucket} AS b, count(*), "
            f"sum(CASE WHEN {pred} = {truth} THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {pred} = 1 THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {pred} = 1 AND {truth} = 1 THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {truth} = 1 THEN 1 ELSE 0 END), "
            f"sum(power({score} - {truth}, 2)), count({score}), "
            f"sum(CASE WHEN {truth} NOT IN (0, 1) THEN 1 ELSE 0 END) "
            f"FROM {self._table()} WHERE {where} AND {ts} <= :now AND {ts} >= :origin "
            f"AND {self._col('y_true')} IS NOT NULL AND {arrived} < :origin + :count * :width "
            f"AND {arrived} <= :now GROUP BY 1, 2",
            params,
        )
        # a labelled row without a score counts for accuracy etc. but not for Brier (``sum``
        # and ``count`` of a column skip NULLs), whose mean divides by ``brier_rows``
        for name, b, n, correct, pred_pos, tp, actual_pos, brier, scored, bad in rows:
            if bad:
                raise InputError(
                    f"{self._where('y_true')} must be 0 or 1 for the canary's quality gates"
                )
            target = stats[name]
            target.labelled[b] += n
            target.correct[b] += correct
            target.pred_pos[b] += pred_pos
            target.true_pos[b] += tp
            target.actual_pos[b] += actual_pos
            if brier is not None:
                target.brier_sum[b] += brier
            target.brier_rows[b] += scored
        if self._has("y_score"):
            self._unlabelled(window, origin, width, count, stats, arrived)

    def _unlabelled(
        self,
        window: Window,
        origin: float,
        width: int,
        count: int,
        stats: dict[str, Stats],
        arrived: str,
    ) -> None:
        """CBPE sums by request time of the scored rows NOT counted by :meth:`_outcomes` (the
        complement of its row condition, so the same rows as the file source)."""
        where, params = self._filters(window)
        params.update(origin=origin, width=float(width), count=count)
        ts = self._epoch("timestamp")
        pred, score = f"{self._col('y_pred')}::float8", self._score()
        labelled = (
            f"{self._col('y_true')} IS NOT NULL AND {arrived} < :origin + :count * :width "
            f"AND {arrived} <= :now"
        )
        rows = self._query(
            f"SELECT {self._col('model_version')}::text, floor(({ts} - :origin) / :width)::int, "
            f"count(*), sum(CASE WHEN {pred} = 1 THEN {score} ELSE 1 - {score} END), "
            f"sum(CASE WHEN {pred} NOT IN (0, 1) THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {score} < 0 OR {score} > 1 THEN 1 ELSE 0 END) "
            f"FROM {self._table()} WHERE {where} AND {ts} <= :now AND {ts} >= :origin "
            f"AND {ts} < :origin + :count * :width AND {score} IS NOT NULL AND {pred} IS NOT NULL "
            f"AND NOT ({labelled}) GROUP BY 1, 2",
            params,
        )
        for name, b, n, expected, bad_pred, bad_score in rows:
            if bad_pred:
                raise InputError(
                    f"{self._where('y_pred')} must be 0 or 1 for the estimate of rows without "
                    "outcomes"
                )
            if bad_score:
                raise InputError(f"{self._where('y_score')} must be a probability in [0, 1]")
            stats[name].unlabelled_scored[b] += n
            stats[name].expected_correct[b] += expected

    def _scores(
        self, window: Window, origin: float, width: int, count: int, stats: dict[str, Stats]
    ) -> None:
        """Histogram of the model's scores by request time (output drift, reported)."""
        where, params = self._filters(window)
        params.update(origin=origin, width=float(width), count=count)
        ts, score = self._epoch("timestamp"), self._score()
        rows = self._query(
            f"SELECT {self._col('model_version')}::text, floor(({ts} - :origin) / :width)::int, "
            f"least(floor({score} * {SCORE_BINS})::int, {SCORE_BINS - 1}), count(*), "
            f"sum(CASE WHEN {score} < 0 OR {score} > 1 THEN 1 ELSE 0 END) "
            f"FROM {self._table()} WHERE {where} AND {ts} <= :now AND {ts} >= :origin "
            f"AND {ts} < :origin + :count * :width AND {score} IS NOT NULL GROUP BY 1, 2, 3",
            params,
        )
        for name, b, s, n, bad in rows:
            if bad:
                raise InputError(f"{self._where('y_score')} must be a probability in [0, 1]")
            stats[name].scores[b, s] += n

    def _check_unique(self, window: Window) -> None:
        where, params = self._filters(window)
        ts = self._epoch("timestamp")
        rows = self._query(
            f"SELECT {self._col('request_id')}::text, count(*) FROM {self._table()} "
            f"WHERE {where} AND {ts} <= :now AND {self._col('request_id')} IS NOT NULL "
            "GROUP BY 1 HAVING count(*) > 1 LIMIT 1",
            params,
        )
        if rows:
            raise InputError(
                f"{self._where('request_id')}: request ids occur more than once "
                f"(e.g. {rows[0][0]!r}); deduplicate the logs "
                "(a retried request must not count twice)"
            )

    def features(
        self, version: str, window: Window, candidates: Sequence[str], limit: int
    ) -> FeatureRows:
        """``version``'s input features in the window (:mod:`ml_ci.logs.features`): a count,
        then a SELECT of the feature columns, with the evenly spaced sample in time order
        (``row_number() OVER (ORDER BY time)``) when the window holds more than ``limit``."""
        import pyarrow as pa

        from ml_ci.logs.features import FeatureRows, feature_names

        self._require("timestamp", "model_version")
        names = feature_names(candidates, self.present, self.columns)
        if not names:
            return FeatureRows(pa.table({}), 0)
        where, params = self._filters(Window([version], window.now, window.since, window.clock))
        ts = self._epoch("timestamp")
        base = f"FROM {self._table()} WHERE {where} AND {ts} <= :now"
        total = int(self._query(f"SELECT count(*) {base}", params)[0][0])
        selected = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
        if total <= limit:
            sql = f"SELECT {selected} {base}"
        else:
            params.update(limit=limit, total=total)
            rank = f"row_number() OVER (ORDER BY {ts}) - 1"
            sql = (
                f"SELECT {selected} FROM (SELECT {selected}, {rank} AS ml_ci_rank {base}) AS s "
                "WHERE (ml_ci_rank * :limit) / :total < ((ml_ci_rank + 1) * :limit) / :total"
            )
        rows = self._query(sql, params)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        try:
            table = pa.table(
                {name: pa.array(list(values)) for name, values in zip(names, columns, strict=True)}
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise InputError(f"logs {self.name}: a feature column mixes types: {error}") from None
        return FeatureRows(table, total)


def _reason(error: Exception) -> str:
    """The driver's first line, never the URL (it may hold a password)."""
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
    return f"cannot query the database: {first}"


__all__ = ["SqlLogs"]
