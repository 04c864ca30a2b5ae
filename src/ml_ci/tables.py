"""Reading tables (CSV or Parquet) with one-line errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ml_ci.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def read_table(path: Path, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file; an empty or unreadable table is an :class:`InputError`."""
    import pandas as pd

    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path, columns=columns)
        elif suffix == ".csv":
            frame = pd.read_csv(path, usecols=columns)
        else:
            raise InputError(f"{path}: unknown table format; use .csv or .parquet")
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the table is empty") from None
    except ValueError as error:  # usecols naming a missing column, bad parquet
        raise InputError(f"{path}: cannot read table: {error}") from None
    except (OSError, pd.errors.ParserError) as error:
        raise InputError(f"{path}: cannot read table: {str(error).splitlines()[0]}") from None
    if frame.empty:
        raise InputError(f"{path}: the table has no rows")
    return frame
