"""Read a JSON document that someone else wrote (a record, a webhook event), defensively.

Such files may come from a pull request's run, so they are input, never trusted to be sane:

* only a regular file is opened (a FIFO would block, ``/dev/zero`` never ends), and at most
  ``limit`` bytes are read (a link to an endless or huge file is refused, not slurped);
* ``NaN``/``Infinity`` are not JSON (RFC 8259) and are refused, so is an integer longer
  than Python's conversion limit, and nesting too deep to parse;
* every failure is an :class:`InputError` with one line naming the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ml_ci.errors import InputError

MAX_BYTES = 64 * 1024 * 1024  # far above any real record (the demo's is ~50 KB)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; write null or a finite number")


def read_json(path: Path, what: str, *, limit: int = MAX_BYTES) -> Any:
    """The parsed JSON at ``path``; ``what`` names it in errors (e.g. "record")."""
    import json

    try:
        info = os.stat(path)  # follows links: what matters is what the link points to
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file; the {what} must be a JSON file")
        if info.st_size > limit:
            raise InputError(f"{path}: {info.st_size} bytes, over the {what} limit of {limit}")
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)  # the size may grow after stat
    except OSError as error:
        raise InputError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    if len(raw) > limit:
        raise InputError(f"{path}: over the {what} limit of {limit} bytes")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise InputError(f"{path}: the {what} is not UTF-8 text") from None
    except RecursionError:
        raise InputError(f"{path}: the {what} is nested too deeply to be a real one") from None
    except ValueError as error:  # JSONDecodeError, the int-digits limit, NaN/Infinity
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise InputError(f"{path}: not a readable JSON {what}: {first}") from None
