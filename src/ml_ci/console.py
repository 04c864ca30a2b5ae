"""Terminal output for the CLI: plain or JSON results, progress on stderr, NO_COLOR respected.

Only the CLI layer uses this module; engine code reports progress through a callback and
returns values instead of printing.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import click

ProgressCallback = Callable[[str], None]


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
        click.echo(f"{prefix} {message}", file=err)

    def result(self, text: str, payload: Any) -> None:
        """Print the human text, or the JSON payload when ``--json`` was given."""
        if self.json_mode:
            text = json.dumps(finite(payload), indent=2, default=str, allow_nan=False)
            click.echo(text)
        else:
            click.echo(text)

    def verdict(self, label: str, ok: bool | None) -> str:
        """A verdict word, green/red/yellow when colour is on."""
        if not color_enabled(sys.stdout):
            return label
        colour = {True: "green", False: "red", None: "yellow"}[ok]
        return click.style(label, fg=colour, bold=True)

    def warn(self, message: str) -> None:
        click.echo(f"warning: {message}", file=sys.stderr)


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
