"""Load, validate and join the baseline and candidate predictions tables.

Every problem is one :class:`~ml_ci.errors.InputError` line naming the file, the column and
the number of bad rows. The two tables are joined on the id column; both must hold exactly the
same ids (score both models on the same rows: ``ml-ci baseline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ml_ci.config.pipeline import PredictionsConfig
from ml_ci.errors import InputError

if TYPE_CHECKING:
    pass

Array = npt.NDArray[np.generic]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

PROBABILITY_TOLERANCE = 1e-6  # multiclass rows must sum to 1 within this


@dataclass(frozen=True)
class Side:
    """One model's predictions, aligned with :attr:`Paired.y`."""

    pred: Array  # class index (int64) or value (float64, regression)
    score: Floats | None  # binary (n,), multiclass (n, k)
    latency: Floats | None


@dataclass(frozen=True)
class Paired:
    """Both models' predictions on the same rows, in the candidate table's row order."""

    task: str
    y: Array
    base: Side
    cand: Side
    classes: list[str]
    slices: dict[str, npt.NDArray[np.str_]] = field(default_factory=dict)
    groups: dict[str, npt.NDArray[np.str_]] = field(default_factory=dict)  # fairness columns

    @property
    def n(self) -> int:
        return len(self.y)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Paired:
        def side(s: Side) -> Side:
            return Side(
                s.pred[mask],
                None if s.score is None else s.score[mask],
                None if s.latency is None else s.latency[mask],
            )

        return replace(
            self,
            y=self.y[mask],
            base=side(self.base),
            cand=side(self.cand),
            slices={k: v[mask] for k, v in self.slices.items()},
            groups={k: v[mask] for k, v in self.groups.items()},
        )


def table_columns(path: Path) -> list[str]:
    """Column names without reading the rows (:func:`ml_ci.tables.column_names`)."""
    from ml_ci.tables import column_names

    return column_names(path)


def _read(path: Path, columns: list[str]) -> dict[str, Array]:
    """Only ``columns``, as numpy arrays, through :func:`ml_ci.tables.read_arrow` (no pandas
    on the fast path: its import alone costs more than reading 1M rows)."""
    from ml_ci.tables import read_arrow, to_numpy

    table = read_arrow(path, columns=columns)
    return {c: to_numpy(table.column(c)) for c in columns}


def _groups(path: Path, column: str, values: Array) -> npt.NDArray[np.str_]:
    """A fairness group column as text; every row must have a value (as fairlearn asks)."""
    from ml_ci.compare.fairness import group_labels, missing_rows

    missing = missing_rows(values)
    if missing:
        raise InputError(
            f"{path}: column {column!r} (fairness.groups in ml-ci.yaml) has no value in "
            f"{missing} row(s); write one (e.g. 'unknown', then a group of its own) or drop "
            "those rows"
        )
    return group_labels(values)


MISSING_SLICE = "(missing)"


def slice_labels(values: Array) -> npt.NDArray[np.str_]:
    """A slice column as text; rows without a value form the slice ``(missing)`` (rows with a
    missing feature often behave differently, so they are a slice to see, not an error)."""
    import pandas as pd

    array = np.asarray(values)
    absent = np.asarray(pd.isna(array), dtype=bool)  # None, NaN, NaT: what nulls read as
    present = array[~absent]
    if array.dtype.kind == "f" and absent.any() and np.all(present == np.round(present)):
        # an integer column with a blank reads as float: label its values 0, 1, not 0.0, 1.0
        array = np.where(absent, 0, array).astype(np.int64)
    labels = array.astype(str)
    if absent.any():
        labels = labels.astype(object)
        labels[absent] = MISSING_SLICE
        labels = labels.astype(str)
    result: npt.NDArray[np.str_] = labels
    return result


def _require(path: Path, present: list[str], wanted: list[tuple[str, str]]) -> None:
    """Every column of ``wanted`` (config key, column) is in ``present``."""
    for key, column in wanted:
        if column not in present:
            raise InputError(
                f"{path}: column {column!r} is missing ({key} in ml-ci.yaml); "
                f"columns present: {', '.join(present[:20])}"
            )


def _finite(path: Path, column: str, values: Array, what: str = "value") -> Floats:
    """Finite float64 numbers; text (``NA`` is text: see :mod:`ml_ci.tables`) names itself."""
    from ml_ci.tables import non_numeric, text_among_numbers

    if values.dtype.kind in "OUS":
        texts = non_numeric(values)
        if texts:
            raise text_among_numbers(str(path), column, texts, f"the {what}")
    numbers = np.asarray(values, dtype=np.float64)  # None (an empty cell) becomes NaN
    bad = int(np.count_nonzero(~np.isfinite(numbers)))
    if bad:
        raise InputError(
            f"{path}: column {column!r} has {bad} row(s) with a missing (empty), NaN or "
            f"infinite {what}; fix or drop those rows"
        )
    return numbers


def _probabilities(path: Path, column: str, values: Array) -> Floats:
    numbers = _finite(path, column, values, "score")
    bad = int(np.count_nonzero((numbers < 0) | (numbers > 1)))
    if bad:
        raise InputError(
            f"{path}: column {column!r} has {bad} score(s) outside [0, 1]; "
            "scores must be probabilities"
        )
    return numbers


def _binary_labels(path: Path, column: str, values: Array) -> Ints:
    if values.dtype.kind in "OUS":
        from ml_ci.tables import NULL_SPELLINGS, non_numeric

        texts = non_numeric(values)
        if texts and not set(texts) & set(NULL_SPELLINGS):
            shown = ", ".join(
                f"{text!r} ({count} row(s))" for text, count in list(texts.items())[:3]
            )
            raise InputError(
                f"{path}: column {column!r} holds the labels {shown}; binary labels must be 0/1 "
                "or true/false: write the positive class as 1 (or true), the negative as 0 (or "
                "false), or use task: multiclass with a y_score_<class> column per label"
            )
    numbers = _finite(path, column, values, "label")
    bad = int(np.count_nonzero((numbers != 0) & (numbers != 1)))
    if bad:
        raise InputError(
            f"{path}: column {column!r} has {bad} label(s) outside the binary classes 0/1; "
            "encode the positive class as 1 and the negative as 0"
        )
    return numbers.astype(np.int64)


def _class_index(path: Path, column: str, values: Array, classes: list[str]) -> Ints:
    lookup = {name: i for i, name in enumerate(classes)}
    try:  # label -> index once per distinct label, not once per row
        distinct, inverse = np.unique(values, return_inverse=True)
        index = np.array([lookup.get(_label_text(v), -1) for v in distinct], dtype=np.int64)[
            inverse.reshape(-1)
        ]
    except TypeError:  # mixed types (e.g. a missing cell among strings)
        index = np.fromiter(
            (lookup.get(_label_text(v), -1) for v in values), dtype=np.int64, count=len(values)
        )
    bad = int(np.count_nonzero(index < 0))
    if bad:
        raise InputError(
            f"{path}: column {column!r} has {bad} label(s) outside the known classes "
            f"({', '.join(classes)}, from the score columns); add a score column per class"
        )
    return index


def _label_text(value: object) -> str:
    """A label as its score-column suffix: 2.0 -> '2', True -> 'True'."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ids(path: Path, column: str, values: Array) -> Array:
    if values.dtype.kind in "iu":
        as_int = values.astype(np.int64, copy=False)
        if bool(np.all(as_int[1:] > as_int[:-1])):
            return values  # strictly increasing integers: unique, no pandas needed
    import pandas as pd

    ids = pd.Series(values)
    missing = int(ids.isna().sum())
    if missing:
        raise InputError(f"{path}: column {column!r} has {missing} row(s) without an id")
    if ids.is_unique:
        return np.asarray(values)
    duplicated = int(ids.duplicated(keep=False).sum())
    raise InputError(
        f"{path}: {duplicated} row(s) share a duplicated id in column {column!r}; "
        "ids must be unique"
    )


@dataclass(frozen=True)
class _Table:
    path: Path
    ids: Array
    y: Array
    side: Side
    slices: dict[str, npt.NDArray[np.str_]]
    groups: dict[str, npt.NDArray[np.str_]] = field(default_factory=dict)


def _load_side(
    path: Path,
    task: str,
    cols: PredictionsConfig,
    latency: str | None,
    slices: list[str],
    classes: list[str] | None,
    groups: list[str] | None = None,
) -> tuple[_Table, list[str]]:
    present = table_columns(path)
    wanted = {f"predictions.{key}": getattr(cols, key) for key in ("id", "y_true", "y_pred")}
    score_columns: list[str] = []
    if task == "binary":
        wanted["predictions.y_score"] = cols.y_score
        score_columns = [cols.y_score]
    elif task == "multiclass":
        prefix = cols.y_score + "_"
        score_columns = [c for c in present if c.startswith(prefix)]
        if classes is not None:
            score_columns = [prefix + c for c in classes]
            _require(path, present, [("predictions.y_score", c) for c in score_columns])
        if len(score_columns) < 2:
            raise InputError(
                f"{path}: multiclass needs one score column per class named {prefix}<class> "
                f"(predictions.y_score in ml-ci.yaml); found {len(score_columns)}"
            )
        classes = [c[len(prefix) :] for c in score_columns]
    _require(path, present, list(wanted.items()))
    extra = [("slices.columns", column) for column in slices]
    if latency:
        extra.insert(0, ("predictions.latency or latency.column", latency))
    _require(path, present, extra)
    for column in groups or []:
        if column not in present:
            raise InputError(
                f"{path}: column {column!r} is missing (fairness.groups in ml-ci.yaml); "
                f"columns present: {', '.join(present[:20])}"
            )
    needed = [*wanted.values(), *score_columns, *(column for _, column in extra), *(groups or [])]
    frame = _read(path, list(dict.fromkeys(needed)))
    ids = _ids(path, cols.id, frame[cols.id])
    score: Floats | None = None
    if task == "binary":
        y: Array = _binary_labels(path, cols.y_true, frame[cols.y_true])
        pred: Array = _binary_labels(path, cols.y_pred, frame[cols.y_pred])
        score = _probabilities(path, cols.y_score, frame[cols.y_score])
    elif task == "multiclass":
        assert classes is not None
        y = _class_index(path, cols.y_true, frame[cols.y_true], classes)
        pred = _class_index(path, cols.y_pred, frame[cols.y_pred], classes)
        score = np.column_stack([_probabilities(path, c, frame[c]) for c in score_columns])
        off = int(np.count_nonzero(np.abs(score.sum(axis=1) - 1) > PROBABILITY_TOLERANCE))
        if off:
            raise InputError(
                f"{path}: {off} row(s) whose {cols.y_score}_<class> scores do not sum to 1; "
                "write normalised class probabilities"
            )
    else:
        y = _finite(path, cols.y_true, frame[cols.y_true], "target")
        pred = _finite(path, cols.y_pred, frame[cols.y_pred], "prediction")
    lat = _finite(path, latency, frame[latency], "latency") if latency else None
    slice_values = {c: slice_labels(frame[c]) for c in slices}
    group_values = {c: _groups(path, c, frame[c]) for c in groups or []}
    table = _Table(path, ids, y, Side(pred, score, lat), slice_values, group_values)
    return table, classes or []


def load_pair(
    baseline: Path,
    candidate: Path,
    task: str,
    cols: PredictionsConfig,
    *,
    latency: str | None = None,
    slices: list[str] | None = None,
    groups: list[str] | None = None,
) -> Paired:
    """Read both tables, validate them, and align the baseline on the candidate's ids.

    ``groups`` (fairness columns), like ``slices``, are read from the candidate's table (the
    rows are joined by id, so they are the same rows for both models)."""
    cand, classes = _load_side(candidate, task, cols, latency, slices or [], None, groups)
    base, _ = _load_side(
        baseline, task, cols, latency, [], classes if task == "multiclass" else None
    )
    index = _align(base, cand, cols.id)
    base_side = Side(
        base.side.pred[index],
        None if base.side.score is None else base.side.score[index],
        None if base.side.latency is None else base.side.latency[index],
    )
    differ = int(np.count_nonzero(base.y[index] != cand.y))
    if differ:
        raise InputError(
            f"{candidate}: column {cols.y_true!r} differs from {baseline} on {differ} row(s) "
            "with the same id; score both models on the same evaluation data"
        )
    return Paired(task, cand.y, base_side, cand.side, classes, cand.slices, cand.groups)


def _align(base: _Table, cand: _Table, id_column: str) -> Ints:
    """Positions in ``base`` of each candidate id; every id must be on both sides."""
    if len(base.ids) == len(cand.ids) and np.array_equal(base.ids, cand.ids):
        return np.arange(len(cand.ids), dtype=np.int64)
    import pandas as pd

    position = pd.Index(base.ids).get_indexer(pd.Index(cand.ids))
    only_cand = int(np.count_nonzero(position < 0))
    only_base = len(base.ids) - (len(cand.ids) - only_cand)
    if only_cand or only_base:
        raise InputError(
            f"{cand.path}: {only_cand} row(s) have an {id_column!r} not in {base.path}, and "
            f"{only_base} row(s) of {base.path} are not in {cand.path}; score both models on "
            "the same rows (ml-ci baseline)"
        )
    return np.asarray(position, dtype=np.int64)
