"""``ml-ci drift``'s engine: tables in, the record's ``drift`` section out.

Per column: pick the method by type and cardinality (or ``drift.methods``), compute its effect
size and test, and grade it against the method's two thresholds. Per table: quality checks,
the share of drifted columns and the verdict. Columns run in a thread pool, each reading its
own column (Parquet) so memory holds only the columns in flight; the heavy parts (Parquet
decoding, numpy sort, Arrow value counts) release the GIL.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ml_ci.config.drift import DriftConfig
from ml_ci.drift import methods, quality
from ml_ci.drift.sources import Table
from ml_ci.errors import ConfigError, InputError
from ml_ci.record.drift import ColumnDrift, DriftSection, Level, QualityFinding

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

Kind = Literal["numeric", "categorical", "binary"]
Faults = Literal["raise", "report"]
Family = Literal["number", "text", "datetime", "other"]
Progress = Callable[[str], None]

# Default method per column kind (reasons: docs/drift.md).
DEFAULT_METHOD: dict[Kind, str] = {
    "numeric": "wasserstein",
    "categorical": "jensenshannon",
    "binary": "proportion",
}
SORTED_METHODS = ("ks", "wasserstein")  # need an ordered (numeric or datetime) column
CATEGORY_METHODS = ("chi2", "jensenshannon", "proportion")  # compare value frequencies


@dataclass
class DriftSettings:
    """What ``ml-ci drift`` was asked to do."""

    reference: str
    current: str
    config: DriftConfig = field(default_factory=DriftConfig)
    cwd: Path = field(default_factory=Path.cwd)
    progress: Progress | None = None


def execute(settings: DriftSettings) -> DriftSection:
    """Load both tables (paths or ``path@ref``) and analyse them."""
    from ml_ci.drift.sources import load_table, parse_spec

    say = settings.progress or (lambda _message: None)
    tables = []
    for text in (settings.reference, settings.current):
        spec = parse_spec(text, cwd=settings.cwd)
        say(f"reading {spec.label}")
        tables.append(load_table(spec, cwd=settings.cwd))
    return analyse(tables[0], tables[1], settings.config, progress=settings.progress)


def analyse(
    reference: Table | pd.DataFrame,
    current: Table | pd.DataFrame,
    config: DriftConfig,
    *,
    progress: Progress | None = None,
    current_faults: Faults = "raise",
) -> DriftSection:
    """Compare ``current`` with ``reference`` (tables or pandas frames): the drift section.

    A current column that cannot be compared (all missing, or of another type than the
    reference's) is an input error by default (``ml-ci drift``: exit 2); with
    ``current_faults="report"`` it is a failed quality finding naming the column instead and
    the other columns are still compared (``ml-ci monitor``: a broken feature pipeline must
    flag the check, not switch it off). The reference's own problems always raise."""
    ref = reference if isinstance(reference, Table) else Table.from_pandas(reference, "reference")
    cur = current if isinstance(current, Table) else Table.from_pandas(current, "current")
    for table in (ref, cur):
        if table.num_rows == 0 or not table.column_names:
            raise InputError(f"{table.label}: the table is empty; pass a table with rows")
    names = _columns_to_check(ref, cur, config)
    findings = quality.schema(_dtypes(ref.schema), _dtypes(cur.schema), cur.num_rows)
    if config.id_column is not None:
        findings += _id_findings(cur, config.id_column)

    # scipy.stats takes ~0.5 s to import; do it while the workers read and sort (GIL-free)
    warm_up = threading.Thread(target=_import_scipy, daemon=True)
    warm_up.start()
    say = progress or (lambda _message: None)
    say(f"checking {len(names)} columns ({ref.num_rows} vs {cur.num_rows} rows)")
    jobs = [_ColumnJob(name, ref, cur, config, current_faults) for name in names]
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        outcomes = list(pool.map(_ColumnJob.run, jobs))
    columns = [column for column, _ in outcomes if column is not None]
    broken = {f.column for c, found in outcomes if c is None for f in found if f.check == "schema"}
    # a broken column's failed finding says more than the schema check's dtype warning
    findings = [f for f in findings if not (f.check == "schema" and f.column in broken)]
    for _, found in outcomes:
        findings += found
    if config.correction == "holm":
        columns, findings = holm_adjusted(columns, findings, config.alpha)
    checks = [check for check in quality.CHECKS if config.id_column or check != "duplicate_ids"]
    section = summarise(columns, quality.with_passes(findings, checks), config)
    section.reference, section.current = ref.label, cur.label
    section.rows_reference, section.rows_current = ref.num_rows, cur.num_rows
    return section


def _import_scipy() -> None:
    """Import what the methods use later, ahead of time (run in a background thread)."""
    import scipy.stats  # noqa: F401


def holm_adjusted(
    columns: list[ColumnDrift], findings: list[QualityFinding], alpha: float
) -> tuple[list[ColumnDrift], list[QualityFinding]]:
    """The columns and findings graded again with Holm-adjusted p-values.

    One family: every column test and every chance-aware quality check of the table. Holm
    keeps the chance that any of them passes ``alpha`` by luck at most ``alpha``, whatever
    their dependence. Adjusting only raises p-values, so it can only turn a flag off.
    """
    from ml_ci.compare.gates import holm

    tested = [(i, c.p_value) for i, c in enumerate(columns) if c.p_value is not None]
    checked = [(i, f.p_value) for i, f in enumerate(findings) if f.p_value is not None]
    adjusted = holm([p for _, p in tested] + [p for _, p in checked])
    columns, findings = list(columns), list(findings)
    for (i, _), p_value in zip(tested, adjusted[: len(tested)], strict=True):
        column = columns[i]
        assert column.significant_threshold is not None
        level = grade(
            column.value if column.value is not None else math.inf,
            p_value,
            column.threshold,
            column.significant_threshold,
            alpha,
        )
        columns[i] = column.model_copy(
            update={"adjusted_p_value": p_value, "level": level, "drifted": level != "pass"}
        )
    for (i, _), p_value in zip(checked, adjusted[len(tested) :], strict=True):
        finding = findings[i]
        verdict = "pass" if finding.verdict == "fail" and p_value >= alpha else finding.verdict
        findings[i] = finding.model_copy(update={"adjusted_p_value": p_value, "verdict": verdict})
    return columns, findings


def summarise(
    columns: list[ColumnDrift], findings: list[QualityFinding], config: DriftConfig
) -> DriftSection:
    """The dataset verdict: ``significant`` if any column is significant or any quality check
    fails; else ``retrain`` if some column drifted and share_drifted >= drift.share; else pass."""
    drifted = sum(column.drifted for column in columns)
    share = drifted / len(columns) if columns else 0.0
    verdict: Level = "pass"
    if any(c.level == "significant" for c in columns) or any(f.verdict == "fail" for f in findings):
        verdict = "significant"
    elif drifted > 0 and share >= config.share:
        verdict = "retrain"
    return DriftSection(
        columns=columns,
        quality=findings,
        share_drifted=share,
        verdict=verdict,
        alpha=config.alpha,
        correction=config.correction,
    )


def grade(
    value: float, p_value: float | None, retrain: float, significant: float, alpha: float
) -> Level:
    """pass | retrain | significant from the effect size; a p-value >= alpha keeps it at pass
    (at small n an effect size can be large by chance alone; at large n p is tiny for any
    material effect, so the effect size decides)."""
    if p_value is not None and p_value >= alpha:
        return "pass"
    if value >= significant:
        return "significant"
    if value >= retrain:
        return "retrain"
    return "pass"


class CurrentColumnError(InputError):
    """A current column that cannot be compared with the reference's: the quality ``check``
    it fails and what is wrong (``detail``)."""

    def __init__(self, message: str, column: str, check: str, detail: str) -> None:
        super().__init__(message)
        self.column, self.check, self.detail = column, check, detail


def _columns_to_check(ref: Table, cur: Table, config: DriftConfig) -> list[str]:
    common = [name for name in ref.column_names if name in cur.column_names]
    if not common:
        raise InputError(
            f"{ref.label} and {cur.label} have no common columns; compare tables of one schema"
        )
    if config.columns is not None:
        if not config.columns:
            raise ConfigError("drift.columns is empty; list the columns to check, or remove it")
        for name in config.columns:
            for table in (ref, cur):
                if name not in table.column_names:
                    raise ConfigError(f"drift.columns: column {name!r} is not in {table.label}")
        common = [name for name in dict.fromkeys(config.columns) if name in common]
    for name in config.methods:
        if name not in common:
            raise ConfigError(
                f"drift.methods: column {name!r} is not checked (not in both tables, or left "
                "out by drift.columns)"
            )
    skip = {*config.exclude, *([config.id_column] if config.id_column else [])}
    names = [name for name in common if name not in skip]
    if not names:
        raise InputError("no columns left to check after drift.exclude / drift.id_column")
    return names


def _plain_type(data_type: pa.DataType) -> pa.DataType:
    """The logical type: dictionary -> its values, large_string -> string."""
    import pyarrow as pa

    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_large_string(data_type):
        return pa.string()
    if pa.types.is_large_binary(data_type):
        return pa.binary()
    return data_type


def _dtypes(schema: pa.Schema) -> dict[str, str]:
    return {field.name: str(_plain_type(field.type)) for field in schema}


def family_of(data_type: pa.DataType) -> Family:
    """number (int, float, bool, decimal), datetime (timestamp, date), text (string, binary),
    or other (lists, structs, maps, durations, ...: not compared)."""
    import pyarrow as pa

    data_type = _plain_type(data_type)
    if (
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_decimal(data_type)
    ):
        return "number"
    if pa.types.is_timestamp(data_type) or pa.types.is_date(data_type):
        return "datetime"
    if pa.types.is_string(data_type) or pa.types.is_binary(data_type):
        return "text"
    if getattr(pa.types, "is_string_view", lambda _t: False)(data_type):
        return "text"
    return "other"


def _id_findings(cur: Table, id_column: str) -> list[QualityFinding]:
    import pyarrow.compute as pc

    if id_column not in cur.column_names:
        raise ConfigError(f"drift.id_column: column {id_column!r} is not in {cur.label}")
    ids = cur.column(id_column)
    distinct = pc.count_distinct(ids, mode="only_valid").as_py()
    finding = quality.duplicate_ids(id_column, len(ids) - ids.null_count - distinct)
    return [finding] if finding else []


@dataclass
class _ColumnJob:
    """One column of both tables and everything needed to grade it."""

    name: str
    ref: Table
    cur: Table
    config: DriftConfig
    faults: Faults = "raise"

    def run(self) -> tuple[ColumnDrift | None, list[QualityFinding]]:
        """The column's drift (None when it is not compared) and its quality findings; a
        current column that cannot be compared is a failed finding when faults="report"."""
        try:
            return self._run()
        except CurrentColumnError as error:
            if self.faults == "raise":
                raise
            finding = QualityFinding(
                check=error.check,
                column=error.column,
                rows=self.cur.num_rows,
                verdict="fail",
                detail=error.detail,
            )
            return None, [finding]

    def _run(self) -> tuple[ColumnDrift | None, list[QualityFinding]]:
        family = self._family()
        method = self.config.methods.get(self.name)
        if method in SORTED_METHODS and family == "text":
            raise ConfigError(f"drift.methods.{self.name}: {method} needs a numeric column")
        ref_column, cur_column = self.ref.column(self.name), self.cur.column(self.name)
        if family == "text" or method in CATEGORY_METHODS:
            ref_counts = _value_counts(ref_column)
            distinct, present = len(ref_counts.counts), int(ref_counts.counts.sum())
            if self._mostly_distinct(distinct, present):
                if family == "text" and method is None:
                    return None, self._identifier_findings(ref_counts, cur_column)
                if family != "text":
                    raise ConfigError(
                        f"drift.methods.{self.name}: {method} compares categories, but "
                        f"{self.name!r} has {distinct} distinct values in {present} rows of "
                        f"{self.ref.label}; use wasserstein, ks or psi"
                    )
            cur_counts = _value_counts(cur_column)
            cur_missing = len(cur_column) - int(cur_counts.counts.sum())
            self._require_values(int(ref_counts.counts.sum()), int(cur_counts.counts.sum()))
            return self._categorical(method, ref_counts, cur_counts, cur_missing)
        ref_values, _ = _finite_sorted(ref_column)
        cur_values, cur_missing = _finite_sorted(cur_column)
        del ref_column, cur_column  # the sorted copies are all we need from here
        self._require_values(len(ref_values), len(cur_values))
        few = self._few_repeated_values(_distinct(ref_values), len(ref_values))
        if method is None and family == "number" and few:
            # few values, each repeated: per-value frequencies describe a change best
            ref_counts, cur_counts = _runs(ref_values), _runs(cur_values)
            return self._categorical(None, ref_counts, cur_counts, cur_missing)
        return self._numeric(method or "wasserstein", ref_values, cur_values, cur_missing)

    def _family(self) -> Family:
        """The column's family, the same in both tables (else an InputError naming it)."""
        import pyarrow as pa

        ref_type = self.ref.schema.field(self.name).type
        cur_type = self.cur.schema.field(self.name).type
        # a column with only empty cells has Arrow's null type (CSV): nothing to compare
        self._require_values(
            int(not pa.types.is_null(ref_type)), int(not pa.types.is_null(cur_type))
        )
        family, cur_family = family_of(ref_type), family_of(cur_type)
        if "other" in (family, cur_family):
            odd, table = (ref_type, self.ref) if family == "other" else (cur_type, self.cur)
            message = (
                f"column {self.name!r} in {table.label} has type {odd}, which drift cannot "
                "compare; exclude it (drift.exclude)"
            )
            if family == "other":
                raise InputError(message)
            detail = f"type {odd}, which drift cannot compare: not compared"
            raise CurrentColumnError(message, self.name, "schema", detail)
        if cur_family != family:
            # numbers and words such as "NA" in one text column: name the words (ml_ci.tables)
            for table, kind in ((self.ref, family), (self.cur, cur_family)):
                if kind == "text":
                    table.column(self.name)
            raise CurrentColumnError(
                f"column {self.name!r} is {family} in {self.ref.label} but {cur_family} in "
                f"{self.cur.label}; fix its type or exclude it (drift.exclude)",
                self.name,
                "schema",
                f"{family} in the reference but {cur_family} ({cur_type}) now: not compared",
            )
        return family

    def _identifier_findings(
        self, ref: Counts, cur_column: pa.ChunkedArray
    ) -> list[QualityFinding]:
        """An identifier-like column is not compared, but its missing values and a current
        column stuck at one value are still data-quality failures."""
        cur = _value_counts(cur_column)
        present = int(cur.counts.sum())
        config = self.config
        found = [
            quality.identifier_like(
                self.name, len(ref.counts), int(ref.counts.sum()), config.max_unique_share
            ),
            quality.missing_values(
                self.name, len(cur_column) - present, self.cur.num_rows, config.max_missing_share
            ),
            quality.constant(self.name, len(ref.counts), len(cur.counts), present),
        ]
        return [finding for finding in found if finding]

    def _mostly_distinct(self, distinct: int, present: int) -> bool:
        """More than drift.categorical_max_unique distinct values, making up more than
        drift.max_unique_share of the present ones: an identifier or free text."""
        config = self.config
        return (
            distinct > config.categorical_max_unique
            and distinct > config.max_unique_share * present
        )

    def _few_repeated_values(self, distinct: int, present: int) -> bool:
        """At most drift.categorical_max_unique distinct values, each repeated (no more than
        drift.max_unique_share of the present values): a code, a count, a flag. A small
        continuous sample (15 rows, 15 values) is not one."""
        config = self.config
        return (
            distinct <= config.categorical_max_unique
            and distinct <= config.max_unique_share * present
        )

    def _require_values(self, ref_count: int, cur_count: int) -> None:
        for count, table in ((ref_count, self.ref), (cur_count, self.cur)):
            if count == 0:
                message = (
                    f"column {self.name!r} has no values in {table.label} (all missing); "
                    "fix the data or exclude it (drift.exclude)"
                )
                if table is self.ref:
                    raise InputError(message)
                detail = f"all missing ({table.num_rows} rows, not one value): not compared"
                raise CurrentColumnError(message, self.name, "missing_values", detail)

    def _numeric(
        self, method: str, ref: np.ndarray, cur: np.ndarray, cur_missing: int
    ) -> tuple[ColumnDrift, list[QualityFinding]]:
        import numpy as np

        ecdf = methods.merged_ecdf(ref, cur)
        ks, ks_p = methods.ks_test(ref, cur, ecdf)
        normed = methods.wasserstein_normed(ecdf, methods.std(ref))
        del ecdf
        edges = methods.quantile_edges(ref, self.config.psi_bins)
        psi = methods.psi(methods.bin_counts(ref, edges), methods.bin_counts(cur, edges))
        value, p_value = {"wasserstein": (normed, ks_p), "ks": (ks, ks_p), "psi": (psi, None)}[
            method
        ]
        stats = {"wasserstein_normed": normed, "ks": ks, "ks_p_value": ks_p, "psi": psi}
        below = int(np.searchsorted(cur, ref[0], side="left"))
        above = len(cur) - int(np.searchsorted(cur, ref[-1], side="right"))
        config = self.config
        found = [
            quality.missing_values(
                self.name, cur_missing, self.cur.num_rows, config.max_missing_share
            ),
            quality.out_of_range(
                self.name,
                below,
                above,
                len(cur),
                self._shown(float(ref[0])),
                self._shown(float(ref[-1])),
                reference_rows=len(ref),
                max_share=config.max_out_of_range_share,
                alpha=config.alpha,
            ),
            quality.constant(self.name, _distinct(ref), _distinct(cur), len(cur)),
        ]
        return self._result(method, "numeric", value, p_value, stats), [f for f in found if f]

    def _categorical(
        self, method: str | None, ref: Counts, cur: Counts, cur_missing: int
    ) -> tuple[ColumnDrift, list[QualityFinding]]:
        import numpy as np

        # one row per category: the reference's, then the current's unseen ones
        aligned, unseen = ref.align(cur)
        ref_n = np.concatenate([ref.counts, np.zeros(int(unseen.sum()), dtype=np.int64)])
        cur_n = np.concatenate([aligned, cur.counts[unseen]])
        kind: Kind = "binary" if len(ref.counts) <= 2 else "categorical"
        method = method or DEFAULT_METHOD[kind]
        chi2, chi2_p, cramers_v = methods.chi_square(ref_n, cur_n)
        js = methods.jensen_shannon(ref_n, cur_n)
        psi = methods.psi(ref_n, cur_n)
        stats = {
            "jensenshannon": js,
            "chi2": chi2,
            "chi2_p_value": chi2_p,
            "cramers_v": cramers_v,
            "psi": psi,
        }
        candidates: dict[str, tuple[float, float | None]] = {
            "jensenshannon": (js, chi2_p),
            "chi2": (cramers_v, chi2_p),
            "psi": (psi, None),
        }
        if kind == "binary":
            candidates["proportion"] = _proportion(ref, aligned, stats)
        if method not in candidates:  # only "proportion" can be missing here
            raise ConfigError(
                f"drift.methods.{self.name}: {method} needs a column with at most two values "
                "in the reference"
            )
        value, p_value = candidates[method]
        present = int(cur.counts.sum())
        first = _from_numpy(np.flatnonzero(unseen)[:5].astype(np.int64))
        examples = [str(label) for label in cur.labels.take(first).to_pylist()]
        config = self.config
        found = [
            quality.missing_values(
                self.name, cur_missing, self.cur.num_rows, config.max_missing_share
            ),
            quality.unseen_categories(
                self.name,
                examples,
                int(unseen.sum()),
                ref_n,
                cur_n,
                max_share=config.max_unseen_share,
                alpha=config.alpha,
            ),
            quality.constant(self.name, len(ref.counts), len(cur.counts), present),
        ]
        return self._result(method, kind, value, p_value, stats), [f for f in found if f]

    def _shown(self, value: float) -> str:
        """A value as the report shows it: an ISO time for date/time columns (seconds since
        the epoch inside the engine), else ``%g``."""

        if family_of(self.ref.schema.field(self.name).type) != "datetime":
            return f"{value:g}"
        from datetime import UTC, datetime

        try:
            shown = datetime.fromtimestamp(value, UTC).isoformat()
        except (ValueError, OverflowError, OSError):  # beyond years 1..9999
            return f"{value:g} s after 1970-01-01"
        return shown.removesuffix("+00:00").removesuffix("T00:00:00")

    def _result(
        self, method: str, kind: Kind, value: float, p_value: float | None, stats: dict[str, float]
    ) -> ColumnDrift:
        limits = self.config.thresholds_for(method)
        level = grade(value, p_value, limits.retrain, limits.significant, self.config.alpha)
        return ColumnDrift(
            column=self.name,
            method=method,
            value=value,
            threshold=limits.retrain,
            drifted=level != "pass",
            p_value=p_value,
            kind=kind,
            level=level,
            significant_threshold=limits.significant,
            statistics=stats,
        )


def _to_numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy view of a primitive Arrow column (floats: nulls as NaN; booleans as bool).

    Arrow's own to_numpy goes through pandas (0.5 s to import) whenever it must copy; a
    null-free fixed-width buffer needs no conversion at all.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_boolean(array.type):
        return _to_numpy(array.cast(pa.uint8())).view(np.bool_)
    if array.null_count:
        array = pc.fill_null(array, np.nan)
    dtype = np.dtype(_NUMPY_TYPES[str(array.type)])
    return np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize
    )


def _from_numpy(values: np.ndarray) -> pa.Array:
    """An Arrow view of a float64/int64 numpy array (pa.array would import pandas)."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    arrow_type = pa.float64() if values.dtype == np.float64 else pa.int64()
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


_NUMPY_TYPES = {"double": "float64", "int64": "int64", "int32": "int32", "uint8": "uint8"}


# Integer columns spanning fewer values than this are sorted by counting (np.bincount +
# np.repeat, linear time) instead of comparison sorting: ages, counts, codes.
COUNTING_SORT_MAX_SPAN = 1 << 20


def _finite_sorted(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """The finite values as sorted float64, and how many were missing (null, NaN, +-inf).

    Dates and timestamps become seconds since the epoch (UTC), whatever their unit, so a
    column stored in seconds in one file and nanoseconds in the other compares as equal.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(column.type) or pa.types.is_boolean(column.type):
        present = column.drop_null()
        if len(present) == 0:
            return np.empty(0), len(column)
        span = pc.min_max(present)
        low, high = int(span["min"].as_py()), int(span["max"].as_py())
        # uint64 above 2**63 does not fit int64: those go the float way
        if high - low < COUNTING_SORT_MAX_SPAN and high < 2**63:
            ints = _to_numpy(present.cast(pa.int64()))
            counts = np.bincount(ints - low)
            ordered = np.repeat(np.arange(low, high + 1, dtype=np.float64), counts)
            return ordered, len(column) - len(ordered)
    if pa.types.is_date(column.type):
        column = column.cast(pa.timestamp("s"))
    scale = 1.0
    if pa.types.is_timestamp(column.type):
        scale = _SECONDS_PER_UNIT[column.type.unit]
        column = column.cast(pa.int64())
    # unsafe: int64 beyond 2**53 and decimals round to the nearest double, as numpy would
    values = _to_numpy(column.cast(pa.float64(), safe=False))
    if scale != 1.0:
        values = values * scale
    finite_mask = np.isfinite(values)
    if finite_mask.all():
        return np.sort(values), 0
    finite = values[finite_mask]
    finite.sort()
    return finite, len(values) - len(finite)


_SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@dataclass(frozen=True)
class Counts:
    """How often each present value occurs in one column (nulls left out)."""

    labels: pa.Array
    counts: np.ndarray

    def align(self, other: Counts) -> tuple[np.ndarray, np.ndarray]:
        """``other``'s counts in this object's label order, and the mask of ``other``'s labels
        that this object lacks (its unseen categories)."""
        import numpy as np
        import pyarrow.compute as pc

        labels = other.labels.cast(self.labels.type)
        where = pc.index_in(labels, value_set=self.labels)
        unseen = _to_numpy(where.is_null())
        aligned = np.zeros(len(self.counts), dtype=np.int64)
        aligned[_to_numpy(where.filter(where.is_valid()))] = other.counts[~unseen]
        return aligned, unseen


def _value_counts(column: pa.ChunkedArray) -> Counts:
    """Counts per present value of a column, with Arrow's hash-based value_counts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counted = pc.value_counts(column)
    values, counts = counted.field("values"), counted.field("counts")
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_string(values.type):
        values = values.cast(pa.large_string())  # one type, however each file stored it
    keep = values.is_valid()
    return Counts(values.filter(keep), _to_numpy(counts.filter(keep)))


def _runs(sorted_values: np.ndarray) -> Counts:
    """Counts per distinct value of a sorted array (run lengths)."""
    import numpy as np

    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    counts = np.diff(np.r_[starts, len(sorted_values)]).astype(np.int64)
    # + 0.0 turns -0.0 into 0.0: they sort as equal, but Arrow's lookups tell them apart
    return Counts(_from_numpy(sorted_values[starts] + 0.0), counts)


def _proportion(
    ref: Counts, aligned: np.ndarray, stats: dict[str, float]
) -> tuple[float, float | None]:
    """Cohen's h and the z-test p-value of the share of the positive label: the reference's
    last label in natural order (True, 1, "yes"). Current rows with other labels are left out
    here (the unseen_categories check counts them)."""
    positive = _last_index(ref.labels.to_pylist())
    ref_total, cur_total = int(ref.counts.sum()), int(aligned.sum())
    if cur_total == 0:
        return 1.0, None  # not one known label left: as different as it gets
    ref_pos, cur_pos = int(ref.counts[positive]), int(aligned[positive])
    z, z_p = methods.proportion_z_test(ref_pos, ref_total, cur_pos, cur_total)
    h = methods.cohens_h(ref_pos / ref_total, cur_pos / cur_total)
    stats |= {
        "p_reference": ref_pos / ref_total,
        "p_current": cur_pos / cur_total,
        "z": z,
        "z_p_value": z_p,
        "cohens_h": h,
    }
    return h, z_p


def _distinct(sorted_values: np.ndarray) -> int:
    import numpy as np

    if len(sorted_values) == 0:
        return 0
    return 1 + int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1]))


def _last_index(labels: list[object]) -> int:
    """Index of the last label in natural order (True, 1, "yes"); by text if types differ."""
    order = range(len(labels))
    try:
        return max(order, key=lambda i: labels[i])  # type: ignore[arg-type,return-value]
    except TypeError:
        return max(order, key=lambda i: str(labels[i]))
