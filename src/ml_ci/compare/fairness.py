"""Fairness gaps of two models on the same rows, and a paired bound on how the gap changes.

Metrics (binary tasks; per group ``g`` from the row's value in a group column):

* ``demographic_parity_difference`` = max_g sel_g - min_g sel_g, ``sel_g`` = share predicted 1;
* ``equalized_odds_difference`` = max(TPR gap, FPR gap), each gap max_g - min_g
  (fairlearn's defaults: ``method="between_groups"``, ``agg="worst_case"``);
* ``gap:<metric>`` = max_g m_g - min_g m_g for ``accuracy``, ``precision``, ``recall``, ``f1``,
  ``selection_rate``, ``fpr`` (functions of each group's confusion counts).

Every gap is a maximum over CONTRASTS (``m_i - m_j`` over ordered pairs of groups, and for
equalized odds over both rates), so the change of the gap is

    theta = C - B,   C = max_j c_j (candidate contrasts),   B = max_k b_k (baseline's).

A maximum is not smooth where contrasts tie (groups with equal rates), and a plug-in max is
biased upward there: on the baseline's side that bias makes ``theta`` look SMALLER, so a naive
bootstrap of ``theta`` passes a widening gap too often. The bound avoids estimating ``B`` at
all: ``B >= b_k`` for every ``k``, hence ``theta <= C - b_k =: T_k`` for every ``k``, and

    U = min_k (T_k_hat + m * se_k),   m = (1 - alpha) quantile of max_k (T*_k - T_k_hat) / se_k

is a simultaneous upper bound of every ``T_k`` (the max over ``k`` in the bootstrap pays for
using all of them), so ``P(theta <= U) >= 1 - alpha`` up to the bootstrap's accuracy, ties or
not; ``C``'s own upward bias at ties only makes ``U`` larger (conservative). The one-sided
p-value of H0 "theta >= margin" is the bootstrap share of ``max_k (T*_k - T_k_hat)/se_k`` at or
above ``s = max_k (margin - T_k_hat)/se_k``: ``p < alpha`` exactly when ``U < margin``.

Groups: every row needs one. A missing value (an empty CSV cell, a null; ``None`` or NaN
here) is refused, as fairlearn's ``MetricFrame`` refuses it ("contains missing values"),
rather than turned into a group named "nan" or "None" that would be gated like a real one;
a team that wants the rows without a value as a group writes a value for them (e.g.
``unknown``).

Resampling: the paired Poisson bootstrap of compare over the cells (group, y, baseline
prediction, candidate prediction): a cell holding ``n`` rows gets a Poisson(``n``) count, exactly
as if every row got a Poisson(1) weight, and both models see the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ml_ci.compare.bootstrap import BLOCK_CELLS, _sum_by
from ml_ci.config.compare import FAIRNESS_METRICS, GAP_METRICS, is_fairness_metric

Floats = npt.NDArray[np.float64]

__all__ = ["FAIRNESS_METRICS", "GAP_METRICS", "is_fairness_metric"]  # re-exported names


@dataclass(frozen=True)
class GroupCells:
    """Row counts by (group, y, baseline prediction, candidate prediction): shape (G, 2, 2, 2)."""

    groups: tuple[str, ...]
    counts: npt.NDArray[np.int64]

    @property
    def sizes(self) -> npt.NDArray[np.int64]:
        sizes: npt.NDArray[np.int64] = self.counts.reshape(len(self.groups), -1).sum(axis=1)
        return sizes


def missing_rows(values: npt.ArrayLike) -> int:
    """Rows without a group value: ``None``, NaN or NaT (what a table's nulls read as)."""
    import pandas as pd

    return int(np.count_nonzero(pd.isna(np.asarray(values))))


def group_labels(values: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """The group of every row as text; ``ValueError`` when a row has none (see the doc)."""
    missing = missing_rows(values)
    if missing:
        raise ValueError(f"{missing} row(s) have no group value")
    labels: npt.NDArray[np.str_] = np.asarray(values).astype(str)
    return labels


def group_cells(
    groups: npt.ArrayLike, y_true: npt.ArrayLike, baseline: npt.ArrayLike, candidate: npt.ArrayLike
) -> GroupCells:
    """Count rows per cell. Labels and predictions are 0/1; groups any hashable values, none
    missing."""
    names, index = np.unique(group_labels(groups), return_inverse=True)
    y = np.asarray(y_true).astype(np.int64)
    b = np.asarray(baseline).astype(np.int64)
    c = np.asarray(candidate).astype(np.int64)
    for label, values in (("y_true", y), ("baseline y_pred", b), ("candidate y_pred", c)):
        if values.size and not np.isin(values, (0, 1)).all():
            raise ValueError(f"{label}: fairness metrics need 0/1 labels")
    flat = ((index * 2 + y) * 2 + b) * 2 + c
    counts = np.bincount(flat, minlength=len(names) * 8).reshape(len(names), 2, 2, 2)
    return GroupCells(tuple(str(n) for n in names), counts.astype(np.int64))


def group_rates(counts: Floats, model: int, metric: str) -> Floats:
    """``metric`` per group from cell counts (..., G, 2, 2, 2); ``model`` 0 baseline, 1 candidate.
    NaN where a group's denominator is 0 (e.g. recall of a group with no positives)."""
    by_y_pred = counts.sum(axis=-1 if model == 0 else -2)  # sum out the other model
    tn, fp = by_y_pred[..., 0, 0], by_y_pred[..., 0, 1]
    fn, tp = by_y_pred[..., 1, 0], by_y_pred[..., 1, 1]
    n = tn + fp + fn + tp
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n,
            "recall": tp / (tp + fn),
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "precision": tp / (tp + fp),
            "f1": 2 * tp / (2 * tp + fp + fn),
        }[metric]
    return np.where(np.isfinite(values), values, np.nan)


def rates_for(metric: str) -> tuple[str, ...]:
    """The per-group rates a fairness metric takes its gap over."""
    if metric == "demographic_parity_difference":
        return ("selection_rate",)
    if metric == "equalized_odds_difference":
        return ("tpr", "fpr")
    return (metric[4:],)


def contrasts(counts: Floats, model: int, metric: str) -> Floats:
    """All ordered-pair differences ``m_i - m_j`` (i != j) of the metric's rates, last axis."""
    parts = []
    for rate in rates_for(metric):
        values = group_rates(counts, model, rate)  # (..., G)
        diff = values[..., :, None] - values[..., None, :]
        groups = values.shape[-1]
        off = ~np.eye(groups, dtype=bool)
        parts.append(diff[..., off])
    return np.concatenate(parts, axis=-1)


def gap(counts: Floats, model: int, metric: str) -> Floats:
    """The metric's gap (max over contrasts); NaN when a needed rate is undefined."""
    values = contrasts(counts, model, metric)
    if values.shape[-1] == 0:  # fewer than two groups: no gap
        return np.full(values.shape[:-1], np.nan)
    with np.errstate(invalid="ignore"):
        out: Floats = np.max(values, axis=-1)  # NaN propagates: an undefined rate
    return out


@dataclass(frozen=True)
class GapChange:
    """A fairness metric for both models and the bound on its change."""

    metric: str
    baseline: float | None
    candidate: float | None
    delta: float | None  # candidate - baseline
    upper: float | None  # one-sided (1 - alpha) upper bound of delta (simultaneous, see above)
    p_value: float | None  # one-sided, H0: delta >= margin (the non-inferiority gate's p)
    groups: tuple[str, ...]  # the gated groups (those with at least min_size rows)
    reason: str | None = None  # why there is no bound (undefined rate, < 2 groups, no variance)


def poisson_replicates(counts: npt.NDArray[np.int64], resamples: int, seed: int) -> Floats:
    """(B, *counts.shape) Poisson-bootstrap cell counts (exact for a row-level Poisson weight)."""
    rng = np.random.default_rng(seed)
    return rng.poisson(counts.astype(np.float64), size=(resamples, *counts.shape)).astype(
        np.float64
    )


def gap_change(
    cells: GroupCells,
    metric: str,
    *,
    margin: float,
    alpha: float,
    replicates: Floats,
    min_size: int = 1,
) -> GapChange:
    """Point gaps of both models and the simultaneous upper bound of their change.

    ``replicates``: bootstrap cell counts (B, G, 2, 2, 2) for ``cells`` (e.g. from
    :func:`poisson_replicates`, or aggregated from compare's own resampling)."""
    keep = cells.sizes >= min_size
    groups = tuple(g for g, k in zip(cells.groups, keep, strict=True) if k)
    counts = cells.counts[keep].astype(np.float64)
    boot = replicates[:, keep]
    base = float(gap(counts, 0, metric))
    cand = float(gap(counts, 1, metric))

    def result(
        delta: float | None, upper: float | None, p_value: float | None, reason: str | None
    ) -> GapChange:
        return GapChange(
            metric,
            None if np.isnan(base) else base,
            None if np.isnan(cand) else cand,
            delta,
            upper,
            p_value,
            groups,
            reason,
        )

    if len(groups) < 2:
        return result(None, None, None, "fewer than 2 groups")
    if np.isnan(base) or np.isnan(cand):
        return result(None, None, None, "a group's rate is undefined")
    c_hat = np.max(contrasts(counts, 1, metric))
    b_hat = contrasts(counts, 0, metric)
    t_hat = c_hat - b_hat  # (K,)
    c_star = np.max(contrasts(boot, 1, metric), axis=-1)  # (B,)
    t_star = c_star[:, None] - contrasts(boot, 0, metric)  # (B, K)
    usable = ~np.isnan(t_star).any(axis=1)
    t_star = t_star[usable]
    se = t_star.std(axis=0, ddof=1) if len(t_star) > 1 else np.zeros_like(t_hat)
    informative = se > 0
    delta = float(c_hat - np.max(b_hat))
    if not informative.any():
        # zero variance is no evidence (and a tie with the margin never passes)
        return result(delta, None, 1.0, "no variance")
    t_hat, t_star, se = t_hat[informative], t_star[:, informative], se[informative]
    z_star = np.max((t_star - t_hat) / se, axis=1)  # (B,)
    m = float(np.quantile(z_star, 1 - alpha, method="higher"))
    upper = float(np.min(t_hat + m * se))
    s = float(np.max((margin - t_hat) / se))
    p_value = float(np.mean(z_star >= s))
    return result(delta, upper, p_value, None)


def gap_change_lower(
    cells: GroupCells,
    metric: str,
    *,
    margin: float,
    alpha: float,
    replicates: Floats,
    min_size: int = 1,
) -> tuple[float | None, float | None]:
    """(lower bound, p) of theta = C - B, for "the gap clearly widened by more than margin".

    ``C >= c_j`` for every candidate contrast j, so ``theta >= c_j - B = min_k (c_j - b_k)``
    for every j: ``theta >= max_j min_k D_jk`` with ``D_jk = c_j - b_k``. A simultaneous lower
    bound of every D_jk (the max over (j, k) of the bootstrap's standardised deviations pays
    for using all of them) gives ``L = max_j min_k (D_jk_hat - m se_jk)``, valid at ties. The
    p-value of H0 "theta <= margin" is the bootstrap share of ``max (D_hat - D*)/se`` at or
    above ``s = max_j min_k (D_jk_hat - margin)/se_jk``: ``p < alpha`` exactly when
    ``L > margin``. (None, None) when there is no bound (see :func:`gap_change`).
    """
    keep = cells.sizes >= min_size
    if keep.sum() < 2:
        return None, None
    counts = cells.counts[keep].astype(np.float64)
    boot = replicates[:, keep]
    c_hat, b_hat = contrasts(counts, 1, metric), contrasts(counts, 0, metric)
    if np.isnan(c_hat).any() or np.isnan(b_hat).any():
        return None, None
    c_boot, b_boot = contrasts(boot, 1, metric), contrasts(boot, 0, metric)
    usable = ~(np.isnan(c_boot).any(axis=1) | np.isnan(b_boot).any(axis=1))
    c_boot, b_boot = c_boot[usable], b_boot[usable]
    if len(c_boot) < 2:
        return None, None
    if len(c_boot) * len(c_hat) * len(b_hat) > PAIRS_MAX_CELLS:
        return _unpaired_lower(c_hat, b_hat, c_boot, b_boot, margin, alpha)
    d_hat = c_hat[:, None] - b_hat[None, :]  # (J, K)
    d_star = c_boot[:, :, None] - b_boot[:, None, :]
    se = d_star.std(axis=0, ddof=1)
    if not (se > 0).any():
        return None, None
    # a pair without variance cannot be bounded from below: -inf, the safe side of a min
    safe = np.where(se > 0, se, 1.0)
    z = np.where(se > 0, (d_hat - d_star) / safe, -np.inf)
    z_star = np.max(z.reshape(len(z), -1), axis=1)
    m = float(np.quantile(z_star, 1 - alpha, method="higher"))
    lows = np.where(se > 0, d_hat - m * se, -np.inf)
    lower = float(np.max(np.min(lows, axis=1)))
    scaled = np.where(se > 0, (d_hat - margin) / safe, -np.inf)
    s = float(np.max(np.min(scaled, axis=1)))
    return lower, float(np.mean(z_star >= s))


#: replicates x candidate contrasts x baseline contrasts above which the lower bound of a gap
#: change drops the pairing (many groups: e.g. 16 groups give 480 x 480 pairs per replicate).
PAIRS_MAX_CELLS = 20_000_000


def _unpaired_lower(
    c_hat: Floats, b_hat: Floats, c_boot: Floats, b_boot: Floats, margin: float, alpha: float
) -> tuple[float | None, float | None]:
    """Linear-cost lower bound: one simultaneous max-t over every candidate contrast (lower
    side) and every baseline contrast (upper side), ``L = max_j (c_j - m se_j) - max_k (b_k +
    m se_k)``. Valid (C >= every c_j, B <= the bound of every b_k, all at once) but wider
    than the paired bound: it ignores that both models score the same rows. p of H0
    "theta <= margin": the smallest level at which L > margin, by bisection on m."""
    se_c, se_b = c_boot.std(axis=0, ddof=1), b_boot.std(axis=0, ddof=1)
    if not ((se_c > 0).any() or (se_b > 0).any()):
        return None, None
    safe_c, safe_b = np.where(se_c > 0, se_c, 1.0), np.where(se_b > 0, se_b, 1.0)
    z_c = np.where(se_c > 0, (c_hat - c_boot) / safe_c, -np.inf).max(axis=1)
    z_b = np.where(se_b > 0, (b_boot - b_hat) / safe_b, -np.inf).max(axis=1)
    z_star = np.maximum(z_c, z_b)

    def bound(m: float) -> float:
        return float(np.max(c_hat - m * se_c) - np.max(b_hat + m * se_b))

    lower = bound(float(np.quantile(z_star, 1 - alpha, method="higher")))
    # bound(m) decreases in m: the p-value is the share of z* at or above the m where
    # bound(m) = margin (found on the sorted replicates)
    ordered = np.sort(z_star)
    passing = [bound(float(m)) > margin for m in ordered]
    below = int(np.sum(passing))  # replicates small enough for bound > margin
    return lower, float(1 - below / len(ordered)) if below else 1.0


def gap_cap(
    cells: GroupCells,
    metric: str,
    *,
    limit: float,
    alpha: float,
    replicates: Floats,
    min_size: int = 1,
) -> tuple[GapChange, float | None, float | None]:
    """The candidate's own gap ``C = max_j c_j`` against a cap: (result, lower, p_opposite).

    ``result.upper`` is the simultaneous upper bound ``U = max_j (c_j_hat + m se_j)``,
    m = (1 - alpha) quantile of ``max_j (c*_j - c_j_hat)/se_j``: it covers every c_j at once,
    hence their max, ties or not. ``result.p_value`` (H0: C >= limit) is the bootstrap share of
    that max at or above ``s = min_j (limit - c_j_hat)/se_j``, so ``p < alpha`` exactly when
    ``U < limit``. ``lower`` = ``max_j (c_j_hat - m' se_j)`` (m' from ``max_j (c_hat - c*)/se``)
    and ``p_opposite`` (H0: C <= limit) are the mirror image. A contrast without bootstrap
    variance enters the bounds at its value (it cannot be left out of a max: that would make
    the bound smaller)."""
    keep = cells.sizes >= min_size
    groups = tuple(g for g, k in zip(cells.groups, keep, strict=True) if k)
    counts = cells.counts[keep].astype(np.float64)
    boot = replicates[:, keep]
    base = float(gap(counts, 0, metric))
    cand = float(gap(counts, 1, metric))

    def result(upper: float | None, p: float | None, reason: str | None) -> GapChange:
        clean = [None if np.isnan(v) else v for v in (base, cand)]
        delta = None if None in clean else cand - base
        return GapChange(metric, clean[0], clean[1], delta, upper, p, groups, reason)

    if len(groups) < 2:
        return result(None, None, "fewer than 2 groups"), None, None
    c_hat = contrasts(counts, 1, metric)
    if np.isnan(c_hat).any():
        return result(None, None, "a group's rate is undefined"), None, None
    c_star = contrasts(boot, 1, metric)
    c_star = c_star[~np.isnan(c_star).any(axis=1)]
    se = c_star.std(axis=0, ddof=1) if len(c_star) > 1 else np.zeros_like(c_hat)
    informative = se > 0
    if not informative.any():
        return result(None, 1.0, "no variance"), None, 1.0
    safe = np.where(informative, se, 1.0)
    up = np.where(informative, (c_star - c_hat) / safe, -np.inf).max(axis=1)
    down = np.where(informative, (c_hat - c_star) / safe, -np.inf).max(axis=1)
    m_up = float(np.quantile(up, 1 - alpha, method="higher"))
    m_down = float(np.quantile(down, 1 - alpha, method="higher"))
    upper = float(np.max(c_hat + m_up * se))
    lower = float(np.max(c_hat - m_down * se))
    fixed = c_hat[~informative]
    if fixed.size and fixed.max() >= limit:
        p = 1.0  # a contrast at or above the cap with no variance: never shown below it
    else:
        p = float(np.mean(up >= np.min((limit - c_hat[informative]) / se[informative])))
    p_opposite = float(np.mean(down >= np.max((c_hat[informative] - limit) / se[informative])))
    if fixed.size and fixed.max() > limit:
        p_opposite = 0.0
    return result(upper, p, None), lower, p_opposite


def by_group(cells: GroupCells, metric: str) -> dict[str, tuple[float | None, float | None]]:
    """(baseline, candidate) value of a rate per group, for the report's table."""
    counts = cells.counts.astype(np.float64)
    out: dict[str, tuple[float | None, float | None]] = {}
    base, cand = group_rates(counts, 0, metric), group_rates(counts, 1, metric)
    for name, b, c in zip(cells.groups, base, cand, strict=True):
        out[name] = (None if np.isnan(b) else float(b), None if np.isnan(c) else float(c))
    return out


def intersect(columns: Sequence[npt.ArrayLike]) -> npt.NDArray[np.str_]:
    """Group labels of an intersection of columns, e.g. ``sex=F&age_band=30-40``."""
    parts = [group_labels(column) for column in columns]
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(np.char.add(out, "&"), part)
    return out


@dataclass(frozen=True)
class SharedDraw:
    """One Poisson draw serving compare's count table and every grouping's fairness cells.

    ``coarse``: (B, 8) replicate counts of compare's cells ``y * 4 + baseline * 2 + candidate``;
    ``cells[i]`` / ``replicates[i]``: grouping i's point cells and (B, G, 2, 2, 2) replicates."""

    coarse: Floats
    cells: list[GroupCells]
    replicates: list[Floats]


def shared_draw(
    labels: Sequence[npt.ArrayLike],
    y_true: npt.ArrayLike,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    resamples: int,
    rng: np.random.Generator,
) -> SharedDraw:
    """Poisson counts drawn once on the common refinement of all groupings' cells.

    A fine cell (the row's group under EVERY grouping, y, both predictions) holding n rows
    gets Poisson(n), exactly the row-level Poisson(1) bootstrap; a sum of independent
    Poissons is Poisson of the sum, so the fine counts summed into any coarser cells (one
    grouping's, or compare's 2x2x2 table) are an exact draw of those cells, and every
    grouping and compare's precision / recall / f1 see the SAME resamples."""
    y = np.asarray(y_true).astype(np.int64)
    coarse_index = (y * 2 + np.asarray(baseline).astype(np.int64)) * 2 + np.asarray(
        candidate
    ).astype(np.int64)
    names, codes = [], []
    for values in labels:
        found, index = np.unique(group_labels(values), return_inverse=True)
        names.append(tuple(str(v) for v in found))
        codes.append(index.reshape(-1).astype(np.int64))
    key = np.zeros(len(y), dtype=np.int64)
    for group_names, index in zip(names, codes, strict=True):
        key = key * len(group_names) + index
    key = key * 8 + coarse_index
    fine, fine_counts = np.unique(key, return_counts=True)
    fine_coarse = fine % 8
    rest = fine // 8
    fine_group: list[npt.NDArray[np.int64]] = []
    for group_names in reversed(names):
        fine_group.append(rest % len(group_names))
        rest = rest // len(group_names)
    fine_group.reverse()
    targets = [g * 8 + fine_coarse for g in fine_group]
    sizes = [len(group_names) * 8 for group_names in names]
    coarse_parts: list[Floats] = []
    parts: list[list[Floats]] = [[] for _ in names]
    rows = max(1, BLOCK_CELLS // max(len(fine), 1))
    done = 0
    while done < resamples:
        b = min(rows, resamples - done)
        draw = rng.poisson(fine_counts.astype(np.float64), size=(b, len(fine))).astype(np.float64)
        coarse_parts.append(_sum_by(draw, fine_coarse, 8))
        for i, (target, size) in enumerate(zip(targets, sizes, strict=True)):
            parts[i].append(_sum_by(draw, target, size))
        done += b
    cells = [
        GroupCells(
            group_names,
            np.bincount(target, weights=fine_counts, minlength=size)
            .astype(np.int64)
            .reshape(len(group_names), 2, 2, 2),
        )
        for group_names, target, size in zip(names, targets, sizes, strict=True)
    ]
    replicates = [
        np.vstack(part).reshape(resamples, len(group_names), 2, 2, 2)
        for part, group_names in zip(parts, names, strict=True)
    ]
    return SharedDraw(np.vstack(coarse_parts), cells, replicates)
