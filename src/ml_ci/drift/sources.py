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
        """One column; from Parquet it is read now (text columns as dictionary arrays)."""
        if self._table is not None:
            return self._table.column(name)
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert self._parquet is not None
        field = self.schema.field(name)
        text = pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        source = (
            pa.BufferReader(self._parquet) if isinstance(self._parquet, bytes) else self._parquet
        )
        try:
            # ParquetFile, not pq.read_table: that goes through pyarrow.dataset (imports pandas)
            handle = pq.ParquetFile(source, read_dictionary=[name] if text else None)
            return handle.read(columns=[name]).column(0)
        except (pa.ArrowException, OSError) as error:
            raise InputError(
                f"{self.label}: cannot read column {name!r}: {_first_line(error)}; "
                "the file may be damaged, write it again"
            ) from None

    def check_names(self) -> Table:
        """Itself, if every column name is unique (else an InputError naming the name)."""
        seen: set[str] = set()
        for name in self.schema.names:
            if name in seen:
                raise InputError(
                    f"{self.label}: column name {name!r} appears more than once; rename one"
                )
            seen.add(name)
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
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            handle = pq.ParquetFile(
                pa.BufferReader(source) if isinstance(source, bytes) else source
            )
            schema = handle.schema_arrow
            rows = handle.metadata.num_rows
        except (pa.ArrowException, OSError) as error:
            raise InputError(f"{label}: cannot read Parquet: {_first_line(error)}") from None
        schema = pa.schema([field for field in schema if field.name != "__index_level_0__"])
        return cls(label, schema, rows, parquet=source).check_names()

    @classmethod
    def from_csv(cls, source: str | bytes, label: str) -> Table:
        import pyarrow as pa
        import pyarrow.csv as pv

        # only an empty cell is missing, in every column, text included (not the category "");
        # Arrow's default list would also turn "NA" (Namibia), "null", "n/a" into missing
        options = pv.ConvertOptions(null_values=[""], strings_can_be_null=True)
        try:
            table = pv.read_csv(
                pa.BufferReader(source) if isinstance(source, bytes) else source,
                convert_options=options,
            )
        except (pa.ArrowException, OSError) as error:
            message = _first_line(error)
            if "Empty CSV file" in message:
                raise InputError(f"{label}: the table is empty") from None
            raise InputError(f"{label}: cannot read CSV: {message}") from None
        try:
            table.schema.names  # noqa: B018 (Arrow decodes the names here)
        except UnicodeDecodeError:
            raise InputError(
                f"{label}: the header is not UTF-8 text; save the file as UTF-8"
            ) from None
        for field in table.schema:
            if pa.types.is_binary(field.type):  # what Arrow infers for text that is not UTF-8
                raise InputError(
                    f"{label}: column {field.name!r} is not UTF-8 text; save the file as UTF-8"
                )
        return cls.from_arrow(table, label).check_names()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__


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
