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
  weighted cumulative TP and count at each distinct threshold (one sort, reused). Large path:
  the first-order expansion AP(w) = AP + sum_i (w_i - 1) g_i with g the exact derivative of the
  weighted AP (:func:`ap_gradient`), whose weighted sum goes through the strata above.

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
    return Replicates(sums[:, :k], totals, ap, exact=False)
