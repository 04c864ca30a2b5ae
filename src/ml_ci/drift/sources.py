"""Where drift's tables come from: a CSV/Parquet path, or ``path@ref`` (a file at a git ref).

``path@ref`` reads a git-tracked file with ``git show ref:path`` and a DVC-tracked file with
``dvc.api.read(path, rev=ref, repo=root)`` (from the DVC cache or remote). A spec that exists
as a file on disk is always a local path, so file names containing ``@`` keep working.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ml_ci.errors import InputError
from ml_ci.tables import TABLE_SUFFIXES, read_table

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TableSpec:
    """A parsed ``--reference``/``--current`` value."""

    path: str
    ref: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path}@{self.ref}" if self.ref else self.path


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


def load_table(spec: TableSpec, *, cwd: Path) -> pd.DataFrame:
    """Read the table a spec names; one-line :class:`InputError` naming the spec otherwise."""
    suffix = Path(spec.path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{spec.label}: unknown table format; use .csv or .parquet")
    if spec.ref is None:
        path = cwd / spec.path
        if not path.exists() and Path(f"{path}.dvc").exists():
            raise InputError(f"{spec.path}: no such file; it is DVC-tracked, run dvc pull")
        return read_table(path)
    return parse_table(read_at_ref(spec, cwd=cwd), suffix, spec.label)


def read_at_ref(spec: TableSpec, *, cwd: Path) -> bytes:
    """The bytes of ``spec.path`` at ``spec.ref``: from git if tracked there, else from DVC."""
    from ml_ci.gitutil import repo_root, rev_parse, show_file

    assert spec.ref is not None
    root = repo_root(cwd)
    rev_parse(root, spec.ref)  # a clear error for a ref that does not exist
    relative = _repo_relative(cwd / spec.path, root, spec)
    data = show_file(root, spec.ref, relative)
    if data is not None:
        return data
    return _read_dvc(root, relative, spec)


def _repo_relative(path: Path, root: Path, spec: TableSpec) -> str:
    absolute = path.resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(f"{spec.label}: the path is outside the git repository {root}") from None


def _read_dvc(root: Path, relative: str, spec: TableSpec) -> bytes:
    if not (root / ".dvc").is_dir():
        raise InputError(f"{spec.label}: not in git at {spec.ref}, and {root} is not a DVC repo")
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        data: bytes = dvc.api.read(relative, repo=str(root), rev=spec.ref, mode="rb")
    except FileNotFoundError:
        raise InputError(
            f"{spec.label}: not tracked by git or DVC at {spec.ref}; check the path and ref"
        ) from None
    except DvcException as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(
            f"{spec.label}: DVC cannot read it ({first}); run dvc fetch or configure the remote"
        ) from None
    return data


def parse_table(data: bytes, suffix: str, label: str) -> pd.DataFrame:
    """A CSV or Parquet table from bytes; empty or unreadable tables are input errors."""
    import pandas as pd

    try:
        if suffix == ".csv":
            frame = pd.read_csv(io.BytesIO(data))
        else:
            frame = pd.read_parquet(io.BytesIO(data))
    except pd.errors.EmptyDataError:
        raise InputError(f"{label}: the table is empty") from None
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InputError(f"{label}: cannot read table: {str(error).splitlines()[0]}") from None
    if frame.empty:
        raise InputError(f"{label}: the table has no rows")
    return frame
