"""The input features of one version's requests in a window, for input drift (``ml-ci monitor``).

The feature columns are the columns of the drift reference that the serving logs also hold,
minus the serving-log contract's own columns (time, version, latency, outcomes, ...).

Bounded: a window with more than ``limit`` requests gives an evenly spaced (systematic) sample
in time order. With the window's ``n`` requests ranked by time (``r = 0 .. n-1``), the rows
kept are those with ``floor(r * limit / n) < floor((r + 1) * limit / n)``: exactly ``limit``
rows, one every ``n / limit``, spread over the whole window. It is deterministic, so a rerun on
the same window reads the same rows (a random sample would move the verdict between reruns)
and files and SQL pick the same rows (except among requests with the same timestamp, where
each source keeps its own order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ml_ci.config.logs import LogColumns
from ml_ci.logs.files import LogReader, Window

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class FeatureRows:
    """The feature columns (``table``, in the reference's column order) of the rows read, and
    how many requests the window held (``rows``; more than ``table.num_rows`` when sampled)."""

    table: pa.Table
    rows: int

    @property
    def sampled(self) -> bool:
        return self.rows > int(self.table.num_rows)


def feature_names(
    candidates: Iterable[str], present: Iterable[str], columns: LogColumns
) -> list[str]:
    """``candidates`` (the reference's columns, in order) that the logs hold, contract columns
    excluded."""
    contract = set(columns.model_dump().values())
    found = set(present)
    return [name for name in dict.fromkeys(candidates) if name in found and name not in contract]


def sample_mask(times: Any, limit: int) -> Any:
    """Which rows to keep (boolean, in the given order): all if ``len(times) <= limit``, else
    the evenly spaced sample of the module doc (ranks by time; ties keep their order)."""
    n = len(times)
    if n <= limit:
        return np.ones(n, dtype=bool)
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.argsort(times, kind="stable")] = np.arange(n, dtype=np.int64)
    keep: Any = (ranks * limit) // n < ((ranks + 1) * limit) // n
    return keep


def read_file_features(
    reader: LogReader, version: str, window: Window, candidates: Sequence[str], limit: int
) -> FeatureRows:
    """The features of ``version``'s requests in ``window`` from CSV/Parquet (two streamed
    passes of :class:`LogReader`: the timestamps to pick the rows, then the picked features)."""
    import pyarrow as pa

    names = feature_names(candidates, reader.names, reader.columns)
    only = Window([version], window.now, window.since, window.clock)
    if not names:
        return FeatureRows(pa.table({}), 0)
    times = [batch["timestamp"] for batch in reader.batches(("timestamp",), only)]
    keep = sample_mask(np.concatenate(times) if times else np.zeros(0), limit)
    pieces, position = [], 0
    for batch in reader.batches(("timestamp",), only, extra=names):
        rows = batch["extra"]
        pieces.append(rows.filter(pa.array(keep[position : position + rows.num_rows])))
        position += rows.num_rows
    if not pieces:
        schema = pa.schema([reader.dataset.schema.field(name) for name in names])
        return FeatureRows(schema.empty_table(), 0)
    return FeatureRows(pa.Table.from_batches(pieces), len(keep))


__all__ = ["FeatureRows", "feature_names", "read_file_features", "sample_mask"]
