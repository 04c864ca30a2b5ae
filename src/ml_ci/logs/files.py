"""Serving logs from CSV/Parquet files: a file, a glob, or a (hive-partitioned) folder.

Read with pyarrow datasets, batch by batch, pruned to the contract's columns and filtered to the
versions asked for, then reduced to :class:`~ml_ci.logs.buckets.Buckets` as it streams: memory
is one batch plus the buckets, whatever the size of the logs.
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml_ci.clock import iso
from ml_ci.config.logs import LogColumns, LogsConfig
from ml_ci.errors import InputError
from ml_ci.logs.buckets import (
    LATENCY_EDGES_MS,
    SCALARS,
    SCORE_BINS,
    Buckets,
    Stats,
    latency_bins,
    own_probability,
)

_ZONE = re.compile(r"(?P<zone>Z|[+-]\d\d:?\d\d)$")
_UTC = {"Z", "+00:00", "+0000", "-00:00", "-0000"}


@dataclass(frozen=True)
class FileSource:
    """Where the files are (``path`` as written, for messages) and how to read them."""

    path: str
    base: Path
    format: str | None = None

    @classmethod
    def from_config(cls, logs: LogsConfig, base: Path, override: str | None) -> FileSource:
        if override is not None:
            return cls(override, Path.cwd(), logs.format)
        if logs.path is None:
            raise InputError(
                "logs: no serving logs configured; set logs.path in ml-ci.yaml or pass --logs PATH"
            )
        return cls(logs.path, base, logs.format)

    def dataset(self) -> Any:
        import pyarrow.dataset as ds

        target = Path(self.path) if Path(self.path).is_absolute() else self.base / self.path
        if any(char in self.path for char in "*?["):
            files = sorted(glob.glob(str(target), recursive=True))
            if not files:
                raise InputError(f"logs {self.path}: the glob matches no file")
            fmt = self.format or _format_of(files[0], self.path)
            return _open(ds, files, fmt, self.path)
        if target.is_dir():
            files = sorted(
                str(p)
                for p in target.rglob("*")
                if p.is_file() and p.suffix.lower() in (".parquet", ".pq", ".csv")
            )
            if not files:
                raise InputError(f"logs {self.path}: no .parquet or .csv file in this folder")
            fmt = self.format or _format_of(files[0], self.path)
            return _open(ds, files, fmt, self.path, root=str(target))
        if not target.is_file():
            raise InputError(f"logs {self.path}: no such file or folder")
        return _open(
            ds, [str(target)], self.format or _format_of(str(target), self.path), self.path
        )


def _format_of(name: str, shown: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise InputError(f"logs {shown}: cannot tell the format of {name}; set logs.format")


def _open(ds: Any, files: list[str], fmt: str, shown: str, root: str | None = None) -> Any:
    import pyarrow as pa

    try:
        partitioning = ds.partitioning(flavor="hive") if root else None
        return ds.dataset(files, format=fmt, partitioning=partitioning, partition_base_dir=root)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"logs {shown}: cannot read: {error}") from None


@dataclass
class Window:
    """What to read: versions, and the time window ``[since, now]`` in epoch seconds (UTC).

    ``clock`` is the real time when the command ran: a row later than it is in the future (a
    broken serving clock) and an error. Rows between ``now`` and ``clock`` are simply not yet
    known to an evaluation "as of ``now``" (``--now`` in the past, as a replay check does)."""

    versions: Sequence[str]
    now: float
    since: float | None = None
    clock: float | None = None  # None: now is the clock

    @property
    def future(self) -> float:
        return max(self.now, self.clock) if self.clock is not None else self.now


class LogReader:
    """Column-pruned, version-filtered batches of a source, with timestamps as epoch seconds."""

    def __init__(self, source: FileSource, columns: LogColumns) -> None:
        self.source = source
        self.columns = columns
        self.dataset = source.dataset()
        self.names = set(self.dataset.schema.names)
        self._check_zones()

    def where(self, key: str) -> str:
        return (
            f"logs {self.source.path}: column {getattr(self.columns, key)!r} (logs.columns.{key})"
        )

    def require(self, *keys: str) -> None:
        for key in keys:
            if getattr(self.columns, key) not in self.names:
                raise InputError(
                    f"{self.where(key)} is missing; columns present: {', '.join(sorted(self.names))}"
                )

    def has(self, key: str) -> bool:
        return getattr(self.columns, key) in self.names

    def _check_zones(self) -> None:
        """Files of one dataset whose timestamp columns carry different time zones."""
        import pyarrow as pa

        name = self.columns.timestamp
        zones = set()
        for fragment in self.dataset.get_fragments():
            schema = fragment.physical_schema
            if name in schema.names and pa.types.is_timestamp(schema.field(name).type):
                zones.add(schema.field(name).type.tz or "naive")
        if len(zones) > 1:
            raise InputError(
                f"{self.where('timestamp')}: files mix time zones ({', '.join(sorted(zones))}); "
                "write every timestamp in UTC"
            )

    def batches(
        self, keys: Sequence[str], window: Window, extra: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Batches as numpy arrays by contract key; ``timestamp`` (and ``label_time``) in epoch
        seconds; rows of other versions and outside the window dropped. ``extra``: more columns
        by name, as they are, in one record batch under ``"extra"``."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        columns = [getattr(self.columns, key) for key in keys]
        version = self.columns.model_version
        field = ds.field(version)
        kind = self.dataset.schema.field(version).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            field = field.cast("string")  # e.g. versions written as numbers
        filter_ = field.isin(list(window.versions))
        try:
            scanner = self.dataset.scanner(
                columns=list(dict.fromkeys([*columns, *extra])), filter=filter_, batch_size=1 << 20
            )
            for batch in scanner.to_batches():
                if batch.num_rows == 0:
                    continue
                out: dict[str, Any] = {}
                if extra:
                    out["extra"] = batch.select(list(extra))
                for key, name in zip(keys, columns, strict=True):
                    array = batch.column(name)
                    if key in ("timestamp", "label_time"):
                        out[key] = self._seconds(array, key)
                    elif key == "model_version":
                        out[key] = array  # decoded lazily by _version_index
                    elif key == "request_id":
                        out[key] = array
                    else:
                        out[key] = self._numbers(array, key)
                self._check_future(out, window)
                keep = out["timestamp"] <= window.now
                if window.since is not None:
                    keep &= out["timestamp"] >= window.since
                if not keep.all():
                    out = {key: _take(value, keep) for key, value in out.items()}
                yield out
        except InputError:
            raise
        except Exception as error:  # pyarrow raises many kinds for unreadable or mistyped data
            raise InputError(f"logs {self.source.path}: cannot read: {error}") from None

    def _check_future(self, out: dict[str, Any], window: Window) -> None:
        late = out["timestamp"] > window.future + 1e-6
        if late.any():
            first = float(out["timestamp"][late].min())
            raise InputError(
                f"{self.where('timestamp')}: {int(late.sum())} rows are in the future (after "
                f"{iso(window.future)}; first {iso(first)}); fix the serving clock"
            )

    def _numbers(self, array: Any, key: str) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_boolean(array.type):
            array = pc.cast(array, pa.int8())
        if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
            raise InputError(f"{self.where(key)} holds {array.type}, not numbers")
        return array.to_numpy(zero_copy_only=False).astype(float)

    def _seconds(self, array: Any, key: str) -> Any:
        """Epoch seconds (float) of a timestamp column: a timestamp type, epoch numbers, or
        ISO-8601 text (all with the same zone, or none: naive times are read as UTC)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = array.type
        if pa.types.is_dictionary(kind):
            array = array.dictionary_decode()
            kind = array.type
        if pa.types.is_timestamp(kind):
            micros = pc.cast(pc.cast(array, pa.timestamp("us", tz=kind.tz)), pa.int64())
            values = micros.to_numpy(zero_copy_only=False).astype(float) / 1e6
            return _nan_nulls(values, array)
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return _nan_nulls(array.to_numpy(zero_copy_only=False).astype(float), array)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            zones = pc.extract_regex(array, _ZONE.pattern)
            zoned = pc.is_valid(zones).to_numpy(zero_copy_only=False)
            valid = pc.is_valid(array).to_numpy(zero_copy_only=False)
            if zoned.any() and (zoned != valid).any():
                raise InputError(
                    f"{self.where(key)}: mixes times with and without a zone offset; "
                    "write every timestamp in UTC (e.g. 2026-01-01T10:00:00Z)"
                )
            if zoned.any():
                found = set(pc.unique(pc.struct_field(zones, [0])).to_pylist()) - {None}
                if len(found - _UTC) > 1 or (found - _UTC and found & _UTC):
                    raise InputError(
                        f"{self.where(key)}: mixes time zones ({', '.join(sorted(found))}); "
                        "write every timestamp in UTC"
                    )
            target = pa.timestamp("us", tz="UTC") if zoned.any() else pa.timestamp("us")
            try:
                parsed = pc.cast(array, target)
            except pa.ArrowInvalid as error:
                raise InputError(f"{self.where(key)}: not ISO-8601 time: {error}") from None
            values = pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False).astype(float)
            return _nan_nulls(values / 1e6, array)
        raise InputError(f"{self.where(key)} holds {kind}, not times")

    def versions_present(self) -> list[str]:
        """Distinct versions in the whole source (for the 'version absent' message)."""
        import pyarrow.compute as pc

        column = self.dataset.to_table(columns=[self.columns.model_version]).column(0)
        return sorted(str(v) for v in pc.unique(pc.cast(column, "string")).to_pylist())


def _nan_nulls(values: Any, array: Any) -> Any:
    if array.null_count:
        import pyarrow.compute as pc

        values[~pc.is_valid(array).to_numpy(zero_copy_only=False)] = np.nan
    return values


def _take(value: Any, keep: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value[keep]
    import pyarrow as pa

    return value.filter(pa.array(keep))


OUTCOME_KEYS = ("y_true", "y_pred", "y_score", "label_time")


def first_request(reader: LogReader, version: str, window: Window) -> float:
    """Time of ``version``'s first request in the window (the origin of the canary's looks)."""
    first = math.inf
    for batch in reader.batches(
        ("timestamp",), Window([version], window.now, window.since, window.clock)
    ):
        times = batch["timestamp"]
        if times.size:
            first = min(first, float(np.nanmin(times)))
    if not math.isfinite(first):
        _absent(reader, version, window)
    return first


def _absent(reader: LogReader, version: str, window: Window) -> None:
    present = reader.versions_present()
    if version in present:
        raise InputError(
            f"logs {reader.source.path}: version {version!r} has no request in the window "
            f"(until {iso(window.now)}); widen --since/--now"
        )
    raise InputError(
        f"logs {reader.source.path}: version {version!r} is absent from column "
        f"{reader.columns.model_version!r}; versions present: {', '.join(present) or 'none'}"
    )


def bucketize(
    reader: LogReader, window: Window, origin: float, width: int, count: int, outcomes: bool
) -> Buckets:
    """Per version x bucket sufficient statistics over ``[origin, origin + count*width)``.

    Requests count in the bucket of their timestamp; outcomes in the bucket of their arrival
    (``label_time``, else the request time), so a cumulative sum up to a look only uses outcomes
    that had arrived by then. Rows before ``origin`` are ignored. Scored rows whose outcome has
    not arrived in the buckets by ``window.now`` count in ``unlabelled_scored`` and
    ``expected_correct`` by request time (:mod:`ml_ci.logs.buckets`).
    """
    reader.require("timestamp", "model_version", "latency_ms", "error")
    keys = ["timestamp", "model_version", "latency_ms", "error"]
    if reader.has("request_id"):
        keys.append("request_id")
    if outcomes:
        reader.require("y_true", "y_pred")
        keys += [key for key in OUTCOME_KEYS if reader.has(key)]
    elif reader.has("y_score"):
        keys.append("y_score")  # the output distribution is reported even without outcomes
    versions = list(window.versions)
    v_count, bins = len(versions), len(LATENCY_EDGES_MS) - 1
    cells = v_count * count
    sums = {name: np.zeros(cells) for name in SCALARS}
    latency = np.zeros(cells * bins)
    scores = np.zeros(cells * SCORE_BINS)
    ids: list[Any] = []
    for batch in reader.batches(keys, window):
        times = batch["timestamp"]
        if np.isnan(times).any():
            raise InputError(f"{reader.where('timestamp')} has empty values")
        version_index = _version_index(batch["model_version"], versions)
        bucket = np.floor((times - origin) / width).astype(np.int64)
        inside = (bucket >= 0) & (bucket < count)
        cell = version_index * count + bucket
        c = cell[inside]
        lat = batch["latency_ms"][inside]
        if np.isnan(lat).any() or (lat < 0).any():
            raise InputError(f"{reader.where('latency_ms')} has empty or negative values")
        err = batch["error"][inside]
        if not np.isin(err, (0.0, 1.0)).all():
            raise InputError(f"{reader.where('error')} must be 0 or 1 (1: the request failed)")
        sums["requests"] += np.bincount(c, minlength=cells)
        sums["errors"] += np.bincount(c, weights=err, minlength=cells)
        latency_bin = latency_bins(lat)
        latency += np.bincount(c * bins + latency_bin, minlength=cells * bins)
        if "request_id" in batch:
            ids.append(batch["request_id"])
        if "y_score" in batch:  # score histogram by request time (output drift, reported)
            score = batch["y_score"][inside]
            known = ~np.isnan(score)
            if ((score[known] < 0) | (score[known] > 1)).any():
                raise InputError(f"{reader.where('y_score')} must be a probability in [0, 1]")
            score_bin = np.minimum((score[known] * SCORE_BINS).astype(np.int64), SCORE_BINS - 1)
            scores += np.bincount(c[known] * SCORE_BINS + score_bin, minlength=scores.size)
        if outcomes:
            _outcomes(batch, reader, version_index, origin, width, count, sums, window.now)
    if ids:
        _check_unique(reader, ids)
    per_version = {}
    for index, version in enumerate(versions):
        part = slice(index * count, (index + 1) * count)
        per_version[version] = Stats(
            **{name: sums[name][part] for name in SCALARS},
            latency=latency.reshape(v_count, count, bins)[index],
            scores=scores.reshape(v_count, count, SCORE_BINS)[index],
        )
    return Buckets(origin=int(origin), width=width, count=count, versions=per_version)


def _version_index(column: Any, versions: list[str]) -> Any:
    """Position of each row's version in ``versions`` (dictionary columns: via the dictionary,
    without decoding a string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value_set = pa.array(versions)
    if pa.types.is_dictionary(column.type):
        lookup = pc.index_in(pc.cast(column.dictionary, "string"), value_set=value_set)
        codes = column.indices.to_numpy(zero_copy_only=False)
        return np.asarray(lookup.to_numpy(zero_copy_only=False), dtype=np.float64)[codes].astype(
            np.int64
        )
    index = pc.index_in(pc.cast(column, "string"), value_set=value_set)
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)


def _outcomes(
    batch: dict[str, Any],
    reader: LogReader,
    version_index: Any,
    origin: float,
    width: int,
    count: int,
    sums: dict[str, Any],
    now: float,
) -> None:
    y_true, y_pred = batch["y_true"], batch["y_pred"]
    known = ~np.isnan(y_true)
    arrived = batch.get("label_time", batch["timestamp"])
    arrived = np.where(
        np.isnan(arrived), batch["timestamp"], np.maximum(arrived, batch["timestamp"])
    )
    bucket = np.floor((arrived - origin) / width).astype(np.int64)
    served = batch["timestamp"] >= origin  # outcomes of requests served before the looks began
    # an outcome after ``now`` is not known to an evaluation as of ``now``
    use = known & served & (bucket >= 0) & (bucket < count) & (arrived <= now)
    truth = y_true[use]
    if not np.isin(truth, (0.0, 1.0)).all():
        raise InputError(f"{reader.where('y_true')} must be 0 or 1 for the canary's quality gates")
    pred = y_pred[use]
    cells = sums["requests"].size
    c = version_index[use] * count + bucket[use]
    sums["labelled"] += np.bincount(c, minlength=cells)
    sums["correct"] += np.bincount(c, weights=(pred == truth).astype(float), minlength=cells)
    sums["pred_pos"] += np.bincount(c, weights=(pred == 1).astype(float), minlength=cells)
    sums["actual_pos"] += np.bincount(c, weights=(truth == 1).astype(float), minlength=cells)
    tp = ((pred == 1) & (truth == 1)).astype(float)
    sums["true_pos"] += np.bincount(c, weights=tp, minlength=cells)
    if "y_score" in batch:
        score = batch["y_score"][use]
        # a labelled row without a score is valid (the model may not score every request): it
        # counts for accuracy etc. but not for Brier, whose mean divides by ``brier_rows``
        scored = ~np.isnan(score)
        if ((score[scored] < 0) | (score[scored] > 1)).any():
            raise InputError(f"{reader.where('y_score')} must be a probability in [0, 1]")
        sums["brier_sum"] += np.bincount(
            c[scored], weights=(score[scored] - truth[scored]) ** 2, minlength=cells
        )
        sums["brier_rows"] += np.bincount(c[scored], minlength=cells)
        _unlabelled(batch, reader, version_index, origin, width, count, sums, use)


def _unlabelled(
    batch: dict[str, Any],
    reader: LogReader,
    version_index: Any,
    origin: float,
    width: int,
    count: int,
    sums: dict[str, Any],
    labelled: Any,
) -> None:
    """CBPE sums of the scored rows served in the buckets that are not ``labelled`` in them,
    by request time (the complement of ``_outcomes``' rows, so no row counts twice)."""
    request = np.floor((batch["timestamp"] - origin) / width).astype(np.int64)
    score, pred = batch["y_score"], batch["y_pred"]
    rows = (request >= 0) & (request < count) & ~labelled & ~np.isnan(score) & ~np.isnan(pred)
    if not rows.any():
        return
    pred, score = pred[rows], score[rows]
    if not np.isin(pred, (0.0, 1.0)).all():
        raise InputError(
            f"{reader.where('y_pred')} must be 0 or 1 for the estimate of rows without outcomes"
        )
    if ((score < 0) | (score > 1)).any():
        raise InputError(f"{reader.where('y_score')} must be a probability in [0, 1]")
    c = version_index[rows] * count + request[rows]
    cells = sums["requests"].size
    sums["unlabelled_scored"] += np.bincount(c, minlength=cells)
    sums["expected_correct"] += np.bincount(
        c, weights=own_probability(score, pred), minlength=cells
    )


def _check_unique(reader: LogReader, ids: list[Any]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pa.chunked_array(ids)
    column = column.drop_null()
    if pc.count_distinct(column).as_py() == len(column):
        return
    counts = pc.value_counts(column)
    repeated = [item["values"] for item in counts.to_pylist() if item["counts"] > 1]
    raise InputError(
        f"{reader.where('request_id')}: {len(repeated)} request ids occur more than once "
        f"(e.g. {repeated[0]!r}); deduplicate the logs (a retried request must not count twice)"
    )
