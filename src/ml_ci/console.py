"""Terminal output for the CLI: plain or JSON results, progress on stderr, NO_COLOR respected.

Only the CLI layer uses this module; engine code reports progress through a callback and
returns values instead of printing.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import click

ProgressCallback = Callable[[str], None]


SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str, keep: str = "") -> str:
    """``text`` with every control character (C0, DEL, C1, line/paragraph separators) not in
    ``keep`` written as ``\\n``, ``\\xNN``, ``\\uNNNN``.

    Input (a CSV header, a config key, a GitHub value) is echoed into messages; a raw newline
    there would start a new log line, and the Actions runner obeys a line that starts with
    ``::`` as a workflow command (``::error::``, ``::add-mask::``, ``::stop-commands::``...).
    """

    def shown(char: str) -> str:
        if char in keep or unicodedata.category(char) not in ("Cc", "Zl", "Zp"):
            return char
        if char in SHORT_ESCAPES:
            return SHORT_ESCAPES[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(shown(char) for char in text)


def guard_workflow_commands(text: str) -> str:
    """In Actions, wrap multi-line human output that has a line starting with ``::`` in a
    ``::stop-commands::`` block, so the runner prints those lines instead of obeying them."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return text
    if not any(line.lstrip().startswith("::") for line in text.splitlines()):
        return text
    end = secrets.token_hex(16)  # unguessable: input cannot close the block early
    return f"::stop-commands::{end}\n{text}\n::{end}::"


def color_enabled(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR", "") != "":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@dataclass
class Console:
    """What a command prints, and how."""

    json_mode: bool = False
    quiet: bool = False

    def progress(self, message: str) -> None:
        """Progress goes to stderr so that stdout stays machine-readable."""
        if self.quiet:
            return
        err = sys.stderr
        prefix = click.style("…", fg="cyan") if color_enabled(err) else "..."
        click.echo(f"{prefix} {escape_control(message)}", file=err)

    def result(self, text: str, payload: Any) -> None:
        """Print the human text, or the JSON payload when ``--json`` was given."""
        if self.json_mode:
            text = json.dumps(finite(payload), indent=2, default=str, allow_nan=False)
            click.echo(text)
        else:
            click.echo(guard_workflow_commands(escape_control(text, keep="\n\t")))

    def verdict(self, label: str, ok: bool | None) -> str:
        """A verdict word, green/red/yellow when colour is on."""
        if not color_enabled(sys.stdout):
            return label
        colour = {True: "green", False: "red", None: "yellow"}[ok]
        return click.style(label, fg=colour, bold=True)

    def warn(self, message: str) -> None:
        click.echo(f"warning: {escape_control(message)}", file=sys.stderr)


def finite(value: Any) -> Any:
    """``value`` with every infinite or NaN float replaced by None: JSON has no Infinity, and
    the record file writes null there too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The shared ``--json`` flag: print the command's result as one JSON object."""
    return click.option(
        "--json", "json_mode", is_flag=True, help="Print the result as JSON on stdout."
    )(func)
