"""Durations in config and on the command line: ``90s``, ``10m``, ``1h``, ``23h50m``, ``2d``."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNITS = (86_400, 3_600, 60, 1)


def parse_duration(text: str) -> int:
    """Seconds in ``text`` (units d, h, m, s, largest first, each at most once); ValueError else."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 10m, 1h, 23h50m or 2d")
    seconds = sum(
        int(part) * unit for part, unit in zip(match.groups(), _UNITS, strict=True) if part
    )
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be longer than 0s")
    return seconds
