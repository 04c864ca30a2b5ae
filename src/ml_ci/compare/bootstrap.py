"""The paired Poisson bootstrap: ONE resampling shared by baseline and candidate.

Each replicate gives every row a weight w_i ~ Poisson(1) (independent across rows, so
replicates computed on shards can be merged) and recomputes both models' metrics with the
same weights; the delta's distribution keeps the pairing. Three exact-or-near-exact shortcuts
keep 1M rows x 2000 replicates within a few hundred milliseconds:

* **Counts** (precision, recall, f1; multiclass f1). These depend on the rows only through
  the joint table (y, baseline prediction, candidate prediction). The Poisson-weighted count of
  a cell holding n_c rows is exactly Poisson(n_c), so cells are resampled, not rows. Exact.
* **Means of per-row losses** (log loss, Brier, MAE, RMSE, r2). When rows x replicates is
  small, exact: W @ X in blocks. Otherwise *moment-matched strata*: rows sorted by a key are cut
  into S strata; a stratum's total weight is W_s ~ Poisson(n_s) (exact) and, given W_s, its
  weighted sum of the loss vector is a sum of W_s draws from the stratum, whose mean W_s mu_s
  and covariance W_s Sigma_s are used exactly with a normal shape (the CLT, W_s ~ n / S draws).
  Baseline and candidate columns share the strata, the W_s and the noise, so pairing is kept.
* **Average precision** needs the sorted cumulative structure. Exact path: per replicate the
  weighted cumulative TP and count at each distinct threshold (one sort, reused). Few
  positives (the collapsed table below, x replicates <= EXACT_MAX_CELLS: up to a few hundred
  positives at 2000 replicates, whatever the rows): *collapsed exact* (:func:`collapse`). AP
  depends on the negatives only through how many fall in each stretch between two scores that
  hold positives; the negatives are grouped by their stretch under both models at once, and a
  group of n_c rows gets weight Poisson(n_c) -- exactly the row-level bootstrap. Otherwise
  (many positives, where its error is small): the first-order expansion
  AP(w) = AP + sum_i (w_i - 1) g_i with g the exact derivative of the weighted AP
  (:func:`ap_gradient`), whose weighted sum goes through the strata above.

``tests/compare/test_bootstrap.py`` shows both large-n shortcuts equal to the exact row-level
bootstrap within Monte-Carlo error, and the exact path equal to scipy.stats.bootstrap.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ml_ci.compare.metrics import average_precision_sorted

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: rows x replicates up to which the continuous bootstrap draws every row's weight.
EXACT_MAX_CELLS = 20_000_000
#: strata of the moment-matched path.
STRATA = 512
#: weights generated per block (rows x replicates), bounding memory.
BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class Ranked:
    """One model's scores sorted for average precision: labels in descending-score order and
    the end index of each run of tied scores."""

    order: Ints
    y_sorted: Floats
    ends: Ints


@dataclass(frozen=True)
class Replicates:
    """Per replicate: weighted column sums (B, k), total weight (B,), AP per Ranked (B, r)."""

    sums: Floats
    totals: Floats
    ap: Floats
    exact: bool
    ap_exact: bool | None = None  # None: as ``exact``

    @property
    def ap_method(self) -> str:
        """'' (row-level), ', AP collapsed exact' or ', AP linearised'."""
        if self.exact:
            return ""
        return ", AP collapsed exact" if self.ap_exact else ", AP linearised"


def cell_replicates(counts: Ints, resamples: int, rng: np.random.Generator) -> Floats:
    """(B, C) Poisson-bootstrap counts of C cells: cell c is Poisson(counts[c]) (exact)."""
    return rng.poisson(counts.astype(np.float64), size=(resamples, len(counts))).astype(np.float64)


def ap_weighted(weights_sorted: Floats, ranked: Ranked) -> Floats:
    """Weighted average precision for each row of ``weights_sorted`` (B, n), columns already
    in ``ranked`` order: sum over thresholds of (weighted TP gained) * precision / total TP."""
    tp = np.cumsum(weights_sorted * ranked.y_sorted, axis=1)[:, ranked.ends]
    seen = np.cumsum(weights_sorted, axis=1)[:, ranked.ends]
    gained = np.diff(tp, axis=1, prepend=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(seen > 0, tp / np.where(seen > 0, seen, 1), 0.0)
        total = tp[:, -1]
        return np.where(
            total > 0, (gained * precision).sum(axis=1) / np.where(total > 0, total, 1), 0.0
        )


def ap_gradient(ranked: Ranked) -> Floats:
    """g_j = d AP(w) / d w_j at w = 1, in ``ranked`` (descending score) order.

    With K_i = #rows scored >= s_i, prec_i = TP_i / K_i and P the positives,
    AP(w) = (1/P) sum_{i pos} w_i TP_w(s_i) / K_w(s_i), and differentiating:
    g_j = [y_j prec_j + y_j A_j - C_j - AP y_j] / P, where over positives i with s_i <= s_j
    A_j = sum 1/K_i and C_j = sum prec_i / K_i. Sum_j g_j = 0 (AP is scale-free in w).
    """
    y = ranked.y_sorted
    ends = ranked.ends
    k = ends + 1.0
    tp = np.cumsum(y)[ends]
    positives = tp[-1]
    if positives == 0:
        return np.zeros(len(y))
    pos_in_group = np.diff(tp, prepend=0.0)
    precision = tp / k
    ap = float(np.sum(pos_in_group * precision) / positives)
    # suffix sums over groups at or after the row's group (scores <= the row's score)
    a = np.cumsum((pos_in_group / k)[::-1])[::-1]
    c = np.cumsum((pos_in_group * precision / k)[::-1])[::-1]
    group = np.repeat(np.arange(len(ends)), np.diff(ends, prepend=-1))
    g = (y * precision[group] + y * a[group] - c[group] - ap * y) / positives
    return np.asarray(g, dtype=np.float64)


@dataclass(frozen=True)
class Collapsed:
    """Rows grouped so that AP of every model is a function of the groups' total weights.

    ``cells``: negatives grouped by (stretch under model 0, stretch under model 1, ...), a
    model's stretch l = the number of its positive-holding score groups strictly above the
    row's score group (l = L_j: below its last one, read by no AP term; negatives there under
    every model are dropped);
    ``cell_counts`` rows per cell; ``cell_stretch[j]`` the stretch of each cell under model
    j. ``positive_step[j]`` the positive-holding group index (0..L_j - 1) of each positive
    row (positives are kept one by one). ``steps[j]`` = L_j.
    """

    cell_counts: Ints
    cell_stretch: list[Ints]
    positive_step: list[Ints]
    steps: list[int]

    @property
    def size(self) -> int:
        return len(self.cell_counts) + len(self.positive_step[0]) if self.positive_step else 0


def collapse(ranked: list[Ranked]) -> Collapsed:
    """The collapsed table of :class:`Collapsed` (all ``ranked`` over the same rows)."""
    n = len(ranked[0].order)
    y = np.empty(n)
    y[ranked[0].order] = ranked[0].y_sorted
    positive = y == 1
    stretch_rows: list[Ints] = []
    steps_rows: list[Ints] = []
    steps: list[int] = []
    for r in ranked:
        tp = np.cumsum(r.y_sorted)[r.ends]
        holds = (np.diff(tp, prepend=0.0) > 0).astype(np.int64)
        before: Ints = np.cumsum(holds) - holds  # positive-holding groups strictly above
        group = np.repeat(np.arange(len(r.ends)), np.diff(r.ends, prepend=-1))
        row_group = np.empty(n, dtype=np.int64)
        row_group[r.order] = group
        stretch_rows.append(before[row_group])
        steps_rows.append(before[row_group][positive])
        steps.append(int(holds.sum()))
    # a negative matters when it is above the last positive-holding group of SOME model
    # (under the others it sits in the stretch L_j, which no AP term reads)
    matters = np.zeros(n, dtype=bool)
    for j, stretch in enumerate(stretch_rows):
        matters |= stretch < steps[j]
    keep = ~positive & matters
    key = np.zeros(int(keep.sum()), dtype=np.int64)
    for j, stretch in enumerate(stretch_rows):
        key = key * (steps[j] + 1) + stretch[keep]
    cells, counts = np.unique(key, return_counts=True)
    cell_stretch = []
    rest = cells
    for j in reversed(range(len(ranked))):
        cell_stretch.append(rest % (steps[j] + 1))
        rest = rest // (steps[j] + 1)
    return Collapsed(counts.astype(np.int64), cell_stretch[::-1], steps_rows, steps)


def _sum_by(weights: Floats, labels: Ints, size: int) -> Floats:
    """(B, size): for each replicate, the sum of ``weights`` columns sharing a label."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(size + 1))
    cum = np.zeros((len(weights), len(labels) + 1))
    np.cumsum(weights[:, order], axis=1, out=cum[:, 1:])
    return np.asarray(cum[:, bounds[1:]] - cum[:, bounds[:-1]])


def ap_collapsed(cell_w: Floats, positive_w: Floats, table: Collapsed) -> Floats:
    """(B, models) weighted AP from the cells' and the positives' weights: at each
    positive-holding group l, gained_l = its positives' weight, K_l = all weight at or above
    it; AP = sum_l gained_l TP_l / K_l / TP (0 when TP = 0, like :func:`ap_weighted`)."""
    out = np.empty((len(cell_w), len(table.steps)))
    for j, steps in enumerate(table.steps):
        gained = _sum_by(positive_w, table.positive_step[j], steps)
        negatives = _sum_by(cell_w, table.cell_stretch[j], steps)
        tp = np.cumsum(gained, axis=1)
        seen = tp + np.cumsum(negatives, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = np.where(gained > 0, gained * tp / np.where(seen > 0, seen, 1), 0.0)
            total = tp[:, -1] if steps else np.zeros(len(cell_w))
            out[:, j] = np.where(total > 0, terms.sum(axis=1) / np.where(total > 0, total, 1), 0)
    return out


def collapsed_replicates(table: Collapsed, resamples: int, rng: np.random.Generator) -> Floats:
    """(B, models) AP under the row-level Poisson bootstrap, drawn on the collapsed table:
    a cell of n_c negatives weighs Poisson(n_c), each positive Poisson(1). Exact."""
    positives = len(table.positive_step[0])
    rows = max(1, BLOCK_CELLS // max(table.size, 1))
    out, done = [], 0
    while done < resamples:
        b = min(rows, resamples - done)
        cell_w = rng.poisson(table.cell_counts.astype(np.float64), size=(b, len(table.cell_counts)))
        positive_w = rng.poisson(1.0, size=(b, positives))
        out.append(ap_collapsed(cell_w.astype(np.float64), positive_w.astype(np.float64), table))
        done += b
    return np.vstack(out)


def _weight_blocks(n: int, resamples: int, rng: np.random.Generator) -> Iterator[Floats]:
    rows = max(1, BLOCK_CELLS // max(n, 1))
    done = 0
    while done < resamples:
        b = min(rows, resamples - done)
        yield rng.poisson(1.0, size=(b, n)).astype(np.float64)
        done += b


def exact_replicates(
    columns: Floats, ranked: list[Ranked], resamples: int, rng: np.random.Generator
) -> Replicates:
    """Row-level Poisson bootstrap: every row's weight drawn, W @ X and weighted AP."""
    n = columns.shape[0]
    sums, totals, aps = [], [], []
    for w in _weight_blocks(n, resamples, rng):
        sums.append(w @ columns)
        totals.append(w.sum(axis=1))
        aps.append(
            np.column_stack([ap_weighted(w[:, r.order], r) for r in ranked])
            if ranked
            else np.zeros((len(w), 0))
        )
    return Replicates(np.vstack(sums), np.concatenate(totals), np.vstack(aps), exact=True)


def strata_sums(
    columns: Floats, key: Floats, resamples: int, rng: np.random.Generator, strata: int = STRATA
) -> tuple[Floats, Floats]:
    """Moment-matched stratified Poisson sums: (B, k) weighted sums and (B,) total weights.

    sum_s [W_s mu_s + e_s] with W_s ~ Poisson(n_s) and e_s ~ Normal(0, W_s Sigma_s) (Sigma_s the
    stratum's population covariance): the exact conditional mean and covariance of the
    stratum's weighted sum given W_s (a sum of W_s draws with replacement). The e_s of one
    replicate add up to one Normal(0, sum_s W_s Sigma_s), drawn at once.
    """
    n, k = columns.shape
    # stratum = quantile bin of the key (cut points from a sample; a radix sort on the small
    # integer bin is much cheaper than sorting the float key)
    step = max(1, n // 50_000)
    cuts = np.quantile(key[::step], np.linspace(0, 1, max(1, min(strata, n)) + 1)[1:-1])
    bins = np.searchsorted(cuts, key).astype(np.int16)
    order = np.argsort(bins, kind="stable")
    x = columns[order]
    counts = np.bincount(bins, minlength=len(cuts) + 1)
    edges = np.concatenate([[0], np.cumsum(counts[counts > 0])])
    sizes = np.diff(edges).astype(np.float64)
    mu = np.empty((len(sizes), k))
    cov = np.empty((len(sizes), k, k))
    for i, (start, stop) in enumerate(itertools.pairwise(edges)):
        part = x[start:stop]
        mu[i] = part.mean(axis=0)
        centred = part - mu[i]
        cov[i] = centred.T @ centred / len(part)
    weight = rng.poisson(sizes, size=(resamples, len(sizes))).astype(np.float64)
    # sum_s sqrt(W_s) L_s z_s given W is Normal(0, sum_s W_s Sigma_s): draw it directly
    spread = (weight @ cov.reshape(len(sizes), k * k)).reshape(resamples, k, k)
    eigval, eigvec = np.linalg.eigh(spread)
    root = eigvec * np.sqrt(np.clip(eigval, 0, None))[:, None, :]  # root @ root.T = spread
    z = rng.standard_normal(size=(resamples, k))
    sums = weight @ mu + np.einsum("bij,bj->bi", root, z)
    return sums, weight.sum(axis=1)


def continuous_replicates(
    columns: Floats,
    ranked: list[Ranked],
    key: Floats,
    resamples: int,
    rng: np.random.Generator,
    *,
    exact: bool | None = None,
) -> Replicates:
    """Weighted sums of ``columns`` and weighted AP of each ``ranked`` per replicate.

    ``exact`` None chooses: row-level when rows x replicates <= EXACT_MAX_CELLS, else strata
    (with AP linearised through :func:`ap_gradient`).
    """
    n = columns.shape[0]
    if exact is None:
        exact = n * resamples <= EXACT_MAX_CELLS
    if exact:
        return exact_replicates(columns, ranked, resamples, rng)
    k = columns.shape[1]
    full = np.empty((n, k + len(ranked)))
    full[:, :k] = columns
    for i, r in enumerate(ranked):
        # sum w x / sum w with x = n g  ~=  sum w g  (first order; sum g = 0)
        full[r.order, k + i] = ap_gradient(r) * n
    sums, totals = strata_sums(full, key, resamples, rng)
    base_ap = [average_precision_sorted(r.y_sorted, r.ends) for r in ranked]
    ap = (
        np.column_stack([base_ap[i] + sums[:, k + i] / totals for i in range(len(ranked))])
        if ranked
        else np.zeros((resamples, 0))
    )
    ap_exact = False
    if ranked and int(ranked[0].y_sorted.sum()) * resamples <= EXACT_MAX_CELLS:
        # few positives: the linearisation's error is largest exactly here (its error
        # shrinks with the positives, not the rows), and the collapsed exact path is cheap
        table = collapse(ranked)
        if table.size * resamples <= EXACT_MAX_CELLS:
            ap = collapsed_replicates(table, resamples, rng)
            ap_exact = True
    return Replicates(sums[:, :k], totals, ap, exact=False, ap_exact=ap_exact)
