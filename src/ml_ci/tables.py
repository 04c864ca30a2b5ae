"""The one table reader of ml-ci: CSV and Parquet through Arrow, with one null rule.

**Null rule.** Only an empty CSV cell (and a Parquet null) is missing. Any text -- ``NA``,
``null``, ``n/a``, ``NaN`` written as a word in a text column -- is a value: ``NA`` is Namibia
in a country column. In a column of numbers, text is an error naming the file, the column and
the text (:func:`non_numeric`, :func:`check_null_spellings`): ml-ci never guesses that a word
meant "missing". (Arrow's number parser reads ``nan`` / ``inf`` in a float column as the
float values NaN / infinity; callers that need finite numbers reject them by name.)

Every reading error is one :class:`~ml_ci.errors.InputError` line naming the file. Compare,
drift and anything else that reads a CSV/Parquet table go through this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
PARQUET_SUFFIXES = (".parquet", ".pq")

#: Texts other tools read as missing (pandas' and Arrow's default null lists). For ml-ci they
#: are values; next to numbers in one column they are the likely mistake, so they are named.
NULL_SPELLINGS = (
    "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "#N/A", "#N/A N/A", "#NA", "<NA>",
    "NULL", "null", "Null", "None", "none", "-1.#IND", "1.#QNAN", "-1.#QNAN", "1.#IND", "-", "?",
)  # fmt: skip

Source = Path | str | bytes


def suffix_of(label: str) -> str:
    """The table format of a path (or a bare ``.csv``): ``.csv`` or ``.parquet``; an
    InputError otherwise."""
    suffix = label.lower() if label.lower() in TABLE_SUFFIXES else Path(label).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{label}: unknown table format; use .csv or .parquet")
    return ".parquet" if suffix in PARQUET_SUFFIXES else suffix


def read_arrow(
    source: Source,
    *,
    label: str | None = None,
    columns: list[str] | None = None,
    fmt: str | None = None,
    allow_empty: bool = False,
) -> pa.Table:
    """A whole table (or only ``columns``) as an Arrow table, under the null rule.

    ``source`` is a path or the file's bytes; ``label`` names it in errors; ``fmt`` (``.csv``
    or ``.parquet``) defaults to the path's suffix. CSV: types inferred by Arrow, only empty
    cells are null, text must be UTF-8. A table without rows is an error unless ``allow_empty``.
    """
    import pyarrow as pa

    name = label or str(source)
    suffix = suffix_of(fmt or (name if isinstance(source, bytes) else str(source)))
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InputError(f"{name}: no such file")
    if suffix == ".parquet":
        handle = parquet_file(source, name)
        try:
            table = handle.read(columns=columns, use_pandas_metadata=False)
        except (pa.ArrowException, OSError) as error:
            raise InputError(f"{name}: cannot read Parquet: {first_line(error)}") from None
    else:
        table = _read_csv(source, name, columns)
    names = [n for n in table.schema.names if n != "__index_level_0__"]
    check_unique_names(names, name)
    if table.num_rows == 0 and not allow_empty:
        raise InputError(f"{name}: the table has no rows")
    return table.select(names) if len(names) != table.num_columns else table


def _read_csv(source: Source, label: str, columns: list[str] | None) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pv

    # only an empty cell is missing, in every column, text included (not the category "");
    # Arrow's default list would also turn "NA" (Namibia), "null", "n/a" into missing
    options = pv.ConvertOptions(
        null_values=[""], strings_can_be_null=True, include_columns=columns or []
    )
    try:
        table = pv.read_csv(
            pa.BufferReader(source) if isinstance(source, bytes) else str(source),
            convert_options=options,
        )
    except (pa.ArrowException, OSError) as error:
        message = first_line(error)
        if "Empty CSV file" in message:
            raise InputError(f"{label}: the table is empty") from None
        raise InputError(f"{label}: cannot read CSV: {message}") from None
    try:
        table.schema.names  # noqa: B018 (Arrow decodes the names here)
    except UnicodeDecodeError:
        raise InputError(f"{label}: the header is not UTF-8 text; save the file as UTF-8") from None
    for field in table.schema:
        if pa.types.is_binary(field.type):  # what Arrow infers for text that is not UTF-8
            raise InputError(
                f"{label}: column {field.name!r} is not UTF-8 text; save the file as UTF-8"
            )
    return table


def parquet_file(source: Source, label: str, *, dictionary: list[str] | None = None) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` (not ``pq.read_table``: that imports pandas)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(
            pa.BufferReader(source) if isinstance(source, bytes) else str(source),
            read_dictionary=dictionary,
        )
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{label}: cannot read Parquet: {first_line(error)}") from None


def column_names(path: Path) -> list[str]:
    """The column names of a table file without reading its rows."""
    suffix = suffix_of(str(path))
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if suffix == ".parquet":
        schema = parquet_file(path, str(path)).schema_arrow
        return [n for n in schema.names if n != "__index_level_0__"]
    with path.open(encoding="utf-8", errors="replace") as handle:
        header = handle.readline().rstrip("\r\n")
    if not header:
        raise InputError(f"{path}: the table is empty")
    import csv

    return next(csv.reader([header]))


def check_unique_names(names: list[str], label: str) -> None:
    """An InputError naming the first column name that appears twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"{label}: column name {name!r} appears more than once; rename one")
        seen.add(name)


def read_table(path: Path, *, columns: list[str] | None = None) -> pd.DataFrame:
    """:func:`read_arrow` as a pandas frame (for code that wants pandas)."""
    return read_arrow(path, columns=columns).to_pandas()


def non_numeric(values: npt.NDArray[Any]) -> dict[str, int]:
    """Texts in ``values`` (an object/str array of cells) that are not numbers, with counts
    (missing cells, None, are not texts); empty when every text parses as a number."""
    import numpy as np

    found: dict[str, int] = {}
    kinds, counts = np.unique(
        np.asarray([v for v in values.tolist() if isinstance(v, str)], dtype=object),
        return_counts=True,
    )
    for text, count in zip(kinds.tolist(), counts.tolist(), strict=True):
        try:
            float(text)
        except ValueError:
            found[str(text)] = int(count)
    return found


def text_among_numbers(label: str, column: str, texts: dict[str, int], what: str) -> InputError:
    """The one message for text in a numeric column."""
    shown = ", ".join(f"{text!r} ({count} row(s))" for text, count in list(texts.items())[:3])
    more = f" and {len(texts) - 3} more" if len(texts) > 3 else ""
    hint = ""
    if any(text in NULL_SPELLINGS for text in texts):
        hint = " only an empty cell is missing (a text such as 'NA' is a value):"
    return InputError(
        f"{label}: column {column!r} must hold numbers ({what}) but holds text {shown}{more};"
        f"{hint} write a number or leave the cell empty"
    )


def check_null_spellings(label: str, column: str, array: pa.ChunkedArray) -> None:
    """A text column whose values are numbers apart from null spellings (``NA``, ``null``,
    ...) is a numeric column with missing values written as words: an error naming them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    spellings = pa.array(NULL_SPELLINGS)
    words = pc.is_in(array, value_set=spellings)
    if not pc.any(words).as_py():
        return
    rest = pc.drop_null(pc.filter(array, pc.invert(words)))
    if len(rest) == 0:
        return  # only words: a text column
    try:
        pc.cast(rest.cast(pa.string()) if pa.types.is_dictionary(rest.type) else rest, "float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return  # other texts too: a text column, and "NA" one of its values
    counts = pc.value_counts(pc.filter(array, words)).to_pylist()
    texts = {str(item["values"]): int(item["counts"]) for item in counts}
    raise text_among_numbers(label, column, texts, "its other values are numbers")


def to_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray[Any, Any]:
    """A pyarrow column as numpy: null-free numbers zero-copy from the buffer (pyarrow's own
    ``to_numpy`` imports pandas), else pyarrow's conversion (nulls become NaN / None)."""
    import numpy as np
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    dtype = _PRIMITIVE.get(str(array.type))
    if dtype is not None and array.null_count == 0:
        width = np.dtype(dtype).itemsize
        return np.frombuffer(
            array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width
        )
    converted: np.ndarray[Any, Any] = array.to_numpy(zero_copy_only=False)
    return converted


#: Arrow types read straight from the data buffer.
_PRIMITIVE = {"int64": "int64", "int32": "int32", "double": "float64", "float": "float32"}


def first_line(error: BaseException) -> str:
    """The first line of an exception's text (Arrow's messages run over several lines)."""
    text = str(error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__
