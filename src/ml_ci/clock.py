"""Time as the commands see it: explicit ``--now`` values, always UTC.

Every command that judges time (canary, monitor, registry) takes ``--now`` (default: the
clock), so tests and replays never read the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ml_ci.errors import InputError


def iso(seconds: float) -> str:
    """``2026-01-01T10:00:00Z`` for epoch ``seconds``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, option: str) -> float:
    """Epoch seconds of ``text``: epoch seconds, or ISO-8601 (naive times are UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{option} {text!r}: not a time; write ISO-8601 (2026-01-01T10:00:00Z) or epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
