"""The verdict at each look, from gate statuses (pure, vectorised over leading axes).

Order of precedence at a look: ``hold`` when the sample-ratio check fails (a broken router
invalidates every comparison); ``continue`` while either version has fewer than
``min_requests``, unless max_duration is reached; ``rollback`` as soon as any gate shows the
canary worse; ``promote`` once every gate shows non-inferiority and ``min_duration`` has passed;
the ``on_timeout`` policy at ``max_duration``; else ``continue``. ``rollback``, ``promote`` and
``hold`` are final: a replay stops at the first one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from ml_ci.canary.gates import NON_INFERIOR, WORSE, GateSeries
from ml_ci.compare.sequential import Array

ROLLBACK, PROMOTE, CONTINUE, HOLD = "rollback", "promote", "continue", "hold"
FINAL = (ROLLBACK, PROMOTE, HOLD)


def look_verdicts(
    series: Sequence[GateSeries],
    n_canary: Array,
    n_production: Array,
    elapsed: Array,
    *,
    min_requests: int,
    min_duration: int,
    max_duration: int,
    on_timeout: Literal["rollback", "promote", "hold"],
    ratio_mismatch: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.str_]:
    """Verdict per look (``elapsed``: seconds from the canary's first request to the look)."""
    shape = np.broadcast_shapes(n_canary.shape, *(s.status.shape for s in series))
    enough = (n_canary >= min_requests) & (n_production >= min_requests)
    any_worse = np.zeros(shape, dtype=bool)
    all_fine = np.ones(shape, dtype=bool)
    for item in series:
        any_worse |= item.status == WORSE
        all_fine &= item.status == NON_INFERIOR
    timeout = np.broadcast_to(elapsed >= max_duration, shape)
    verdict = np.full(shape, CONTINUE, dtype="<U8")
    verdict = np.where(timeout, on_timeout, verdict)
    verdict = np.where(enough & all_fine & (elapsed >= min_duration), PROMOTE, verdict)
    verdict = np.where(enough & any_worse, ROLLBACK, verdict)
    if ratio_mismatch is not None:
        verdict = np.where(ratio_mismatch, HOLD, verdict)
    return verdict


def first_final(
    verdicts: npt.NDArray[np.str_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.str_]]:
    """Index (last axis) and value of the first final verdict; ``-1`` / ``continue`` if none."""
    final = np.isin(verdicts, FINAL)
    has = final.any(axis=-1)
    index = np.where(has, final.argmax(axis=-1), -1)
    value = np.where(
        has, np.take_along_axis(verdicts, np.clip(index, 0, None)[..., None], -1)[..., 0], CONTINUE
    )
    return index.astype(np.int64), value
