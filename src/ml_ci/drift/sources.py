"""Where drift's tables come from: a CSV/Parquet path, or ``path@ref`` (a file at a git ref).

``path@ref`` reads a git-tracked file with ``git show ref:path`` and a DVC-tracked file with
``dvc.api.read(path, rev=ref, repo=root)`` (from the DVC cache or remote). A spec that exists
as a file on disk is always a local path, so file names containing ``@`` keep working.

Tables are :class:`Table` objects: Parquet is read one column at a time when the engine asks
for it (text as dictionary arrays), so memory holds only the columns being compared; CSV and
pandas frames are held in memory as Arrow tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ml_ci.errors import InputError
from ml_ci.tables import TABLE_SUFFIXES

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class TableSpec:
    """A parsed ``--reference``/``--current`` value."""

    path: str
    ref: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path}@{self.ref}" if self.ref else self.path


class Table:
    """A table the engine reads column by column: ``schema``, ``num_rows``, ``column(name)``."""

    def __init__(
        self,
        label: str,
        schema: pa.Schema,
        num_rows: int,
        *,
        table: pa.Table | None = None,
        parquet: str | bytes | None = None,
    ) -> None:
        self.label = label
        self.schema = schema
        self.num_rows = num_rows
        self._table = table
        self._parquet = parquet

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def column(self, name: str) -> pa.ChunkedArray:
        """One column; from Parquet it is read now (text columns as dictionary arrays). A text
        column of numbers and words such as "NA" is an error (the null rule of ml_ci.tables)."""
        import pyarrow as pa

        from ml_ci.tables import check_null_spellings, parquet_file

        field = self.schema.field(name)
        text = pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        if pa.types.is_dictionary(field.type):
            text = pa.types.is_string(field.type.value_type)
        if self._table is not None:
            column = self._table.column(name)
        else:
            assert self._parquet is not None
            handle = parquet_file(self._parquet, self.label, dictionary=[name] if text else None)
            try:
                column = handle.read(columns=[name]).column(0)
            except (pa.ArrowException, OSError) as error:
                raise InputError(
                    f"{self.label}: cannot read column {name!r}: {_first_line(error)}; "
                    "the file may be damaged, write it again"
                ) from None
        if text:
            check_null_spellings(self.label, name, column)
        return column

    def check_names(self) -> Table:
        """Itself, if every column name is unique (else an InputError naming the name)."""
        from ml_ci.tables import check_unique_names

        check_unique_names(list(self.schema.names), self.label)
        return self

    @classmethod
    def from_arrow(cls, table: pa.Table, label: str) -> Table:
        return cls(label, table.schema, table.num_rows, table=table)

    @classmethod
    def from_pandas(cls, frame: pd.DataFrame, label: str) -> Table:
        """A pandas frame as a table; a column Arrow cannot type (mixed objects) is an error."""
        import pyarrow as pa

        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise InputError(
                f"{label}: a column mixes types: {str(error).splitlines()[0]}"
            ) from None
        return cls.from_arrow(table, label)

    @classmethod
    def from_parquet(cls, source: str | bytes, label: str) -> Table:
        """A Parquet table whose columns are read when asked for (:meth:`column`)."""
        import pyarrow as pa

        from ml_ci.tables import parquet_file

        handle = parquet_file(source, label)
        schema = handle.schema_arrow
        rows = handle.metadata.num_rows
        schema = pa.schema([field for field in schema if field.name != "__index_level_0__"])
        return cls(label, schema, rows, parquet=source).check_names()

    @classmethod
    def from_csv(cls, source: str | bytes, label: str) -> Table:
        """A CSV table, read whole by :func:`ml_ci.tables.read_arrow` (the null rule)."""
        from ml_ci.tables import read_arrow

        source_path = source if isinstance(source, bytes) else Path(source)
        table = read_arrow(source_path, label=label, fmt=".csv", allow_empty=True)
        return cls.from_arrow(table, label)


def _first_line(error: BaseException) -> str:
    from ml_ci.tables import first_line

    return first_line(error)


def parse_spec(spec: str, *, cwd: Path) -> TableSpec:
    """``data/x.csv`` -> local file; ``data/x.csv@main`` -> the file at git ref ``main``."""
    if not spec.strip():
        raise InputError("empty table path; pass a CSV/Parquet path or path@ref")
    if (cwd / spec).exists() or "@" not in spec:
        return TableSpec(path=spec)
    path, ref = spec.rsplit("@", 1)
    if not path or not ref:
        raise InputError(f"{spec}: expected path@ref, e.g. data/train.csv@main")
    return TableSpec(path=path, ref=ref)


def load_table(spec: TableSpec, *, cwd: Path) -> Table:
    """The table a spec names; a one-line :class:`InputError` naming the spec otherwise."""
    suffix = Path(spec.path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{spec.label}: unknown table format; use .csv or .parquet")
    source: str | bytes
    if spec.ref is None:
        path = cwd / spec.path
        if not path.is_file():
            hint = "it is DVC-tracked, run dvc pull" if Path(f"{path}.dvc").exists() else "check it"
            raise InputError(f"{spec.path}: no such file; {hint}")
        source = str(path)
    else:
        source = read_at_ref(spec, cwd=cwd)
    if suffix == ".csv":
        return Table.from_csv(source, spec.label)
    return Table.from_parquet(source, spec.label)


def read_at_ref(spec: TableSpec, *, cwd: Path) -> bytes:
    """The bytes of ``spec.path`` at ``spec.ref``: from git if tracked there, else from DVC."""
    from ml_ci.gitutil import repo_root, resolve_ref, show_file

    assert spec.ref is not None
    root = repo_root(cwd)
    # one resolver for every ref (a CI clone has only origin/main); git and DVC get the SHA
    sha = resolve_ref(root, spec.ref, what=f"{spec.label}: git ref")
    relative = _repo_relative(cwd / spec.path, root, spec)
    data = show_file(root, sha, relative)
    if data is not None:
        return data
    return _read_dvc(root, relative, spec, sha)


def _repo_relative(path: Path, root: Path, spec: TableSpec) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(f"{spec.label}: the path is outside the git repository {root}") from None


def _read_dvc(root: Path, relative: str, spec: TableSpec, sha: str) -> bytes:
    if not (root / ".dvc").is_dir():
        raise InputError(f"{spec.label}: not in git at {spec.ref}, and {root} is not a DVC repo")
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        data: bytes = dvc.api.read(relative, repo=str(root), rev=sha, mode="rb")
    except FileNotFoundError:
        raise InputError(
            f"{spec.label}: not tracked by git or DVC at {spec.ref}; check the path and ref"
        ) from None
    except DvcException as error:
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        raise InputError(
            f"{spec.label}: DVC cannot read it ({first}); run dvc fetch or configure the remote"
        ) from None
    return data
