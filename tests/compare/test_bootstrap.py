"""The Poisson bootstrap against scipy.stats.bootstrap and against its own exact path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import bootstrap as scipy_bootstrap
from sklearn.metrics import average_precision_score

from ml_ci.compare import bootstrap, metrics
from tests.compare.helpers import binary_scores


def _ranked(y: np.ndarray, score: np.ndarray) -> bootstrap.Ranked:
    order = np.argsort(score)[::-1]
    return bootstrap.Ranked(order, y[order].astype(float), metrics.tie_group_ends(score[order]))


def _close(a: np.ndarray, b: np.ndarray, spread: float, tol: float = 0.35) -> None:
    """Interval ends agree within Monte-Carlo error: |diff| <= tol * replicate SD.

    The 2.5% quantile of B = 2000 replicates has MC SD ~ 0.06 SD; two independent runs
    differ by ~ 0.085 SD; tol = 0.35 is 4 of those (0.45 where one side has only 600).
    """
    assert np.all(np.abs(np.asarray(a) - np.asarray(b)) <= tol * spread), (a, b, spread)


def test_exact_path_matches_scipy_paired_bootstrap() -> None:
    n = 800
    y, sb, sc = binary_scores(n, 21, decimals=2)
    ll_b, ll_c = metrics.binary_log_losses(y, sb), metrics.binary_log_losses(y, sc)
    rep = bootstrap.exact_replicates(
        np.column_stack([ll_b, ll_c]),
        [_ranked(y, sb), _ranked(y, sc)],
        2000,
        np.random.default_rng(1),
    )
    ours_ll = rep.sums[:, 1] / rep.totals - rep.sums[:, 0] / rep.totals
    ours_ap = rep.ap[:, 1] - rep.ap[:, 0]

    def ll_delta(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(b, axis=axis) - np.mean(a, axis=axis)

    ref = scipy_bootstrap(
        (ll_b, ll_c),
        ll_delta,
        paired=True,
        vectorized=True,
        n_resamples=2000,
        method="percentile",
        random_state=np.random.default_rng(2),
    )
    _close(np.quantile(ours_ll, [0.025, 0.975]), ref.confidence_interval, ours_ll.std())

    def ap_delta(idx: np.ndarray) -> float:
        i = idx.astype(int)
        return average_precision_score(y[i], sc[i]) - average_precision_score(y[i], sb[i])

    ref_ap = scipy_bootstrap(
        (np.arange(n),),
        ap_delta,
        vectorized=False,
        n_resamples=600,
        method="percentile",
        random_state=np.random.default_rng(3),
    )
    _close(np.quantile(ours_ap, [0.025, 0.975]), ref_ap.confidence_interval, ours_ap.std(), 0.45)


def test_cell_resampling_equals_row_level_resampling() -> None:
    """Poisson(n_c) per cell is the row-level Poisson bootstrap of f1 (compare distributions)."""
    y, sb, sc = binary_scores(3000, 8)
    pb, pc = (sb >= 0.5).astype(int), (sc >= 0.5).astype(int)
    cells = np.bincount(y * 4 + pb * 2 + pc, minlength=8)
    reps = bootstrap.cell_replicates(cells, 4000, np.random.default_rng(4))
    onehot = np.eye(8)[y * 4 + pb * 2 + pc]
    rows = np.random.default_rng(5).poisson(1.0, (4000, len(y))) @ onehot

    def f1_delta(c: np.ndarray) -> np.ndarray:
        def f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
            return 2 * tp / (2 * tp + fp + fn)

        base = f1(c[:, 6] + c[:, 7], c[:, 2] + c[:, 3], c[:, 4] + c[:, 5])
        cand = f1(c[:, 5] + c[:, 7], c[:, 1] + c[:, 3], c[:, 4] + c[:, 6])
        return cand - base

    a, b = f1_delta(reps), f1_delta(rows)
    _close(np.quantile(a, [0.025, 0.5, 0.975]), np.quantile(b, [0.025, 0.5, 0.975]), a.std())
    assert a.std() == pytest.approx(b.std(), rel=0.08)


def test_ap_gradient_equals_finite_differences() -> None:
    y, sb, _ = binary_scores(60, 9, decimals=1)
    ranked = _ranked(y, sb)
    g = bootstrap.ap_gradient(ranked)
    eps = 1e-6
    base = bootstrap.ap_weighted(np.ones((1, 60)), ranked)[0]
    bumped = np.ones((60, 60)) + eps * np.eye(60)
    numeric = (bootstrap.ap_weighted(bumped, ranked) - base) / eps
    assert np.allclose(g, numeric, atol=1e-5)
    assert abs(g.sum()) < 1e-12


def test_strata_path_matches_exact_path_within_mc_error() -> None:
    """The large-n shortcuts (moment-matched strata, linearised AP) vs the exact bootstrap."""
    n = 12_000
    y, sb, sc = binary_scores(n, 10, decimals=3)
    ll_b, ll_c = metrics.binary_log_losses(y, sb), metrics.binary_log_losses(y, sc)
    br_b, br_c = metrics.brier_losses(y, sb), metrics.brier_losses(y, sc)
    columns = np.column_stack([ll_b, ll_c, br_b, br_c])
    ranked = [_ranked(y, sb), _ranked(y, sc)]
    results = {}
    for exact in (True, False):
        rep = bootstrap.continuous_replicates(
            columns, ranked, ll_c - ll_b, 1500, np.random.default_rng(12), exact=exact
        )
        means = rep.sums / rep.totals[:, None]
        results[exact] = {
            "log_loss": means[:, 1] - means[:, 0],
            "brier": means[:, 3] - means[:, 2],
            "average_precision": rep.ap[:, 1] - rep.ap[:, 0],
            "candidate_ap": rep.ap[:, 1],
        }
    for name, exact_reps in results[True].items():
        approx = results[False][name]
        q = [0.025, 0.5, 0.975]
        _close(np.quantile(approx, q), np.quantile(exact_reps, q), exact_reps.std())
        assert approx.std() == pytest.approx(exact_reps.std(), rel=0.08), name


def _low_prevalence(n: int, positives: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, positives, replace=False)] = 1
    shared = rng.normal(0, 1, n)
    sb = 1 / (1 + np.exp(-(2.5 * y - 4 + shared + rng.normal(0, 1, n))))
    sc = 1 / (1 + np.exp(-(2.8 * y - 4 + shared + rng.normal(0, 1, n))))
    return y, sb.round(4), sc.round(4)


def test_collapsed_ap_equals_the_row_weighted_ap_for_any_weights() -> None:
    """For fixed row weights, AP from the collapsed table's group weights is ap_weighted's
    number (ties included): the collapse loses nothing AP depends on."""
    y, sb, sc = _low_prevalence(3000, 40, 4)
    sb = sb.round(2)  # many ties, some of them between positives and negatives
    ranked = [_ranked(y, sb), _ranked(y, sc)]
    table = bootstrap.collapse(ranked)
    w = np.random.default_rng(5).poisson(1.0, (6, len(y))).astype(np.float64)
    w[0] = 1.0  # the unweighted AP too
    n = len(y)
    stretch = [np.empty(n, dtype=np.int64) for _ in ranked]
    # rebuild each row's cell from the table's own definition, then sum the row weights
    expected = np.column_stack([bootstrap.ap_weighted(w[:, r.order], r) for r in ranked])
    positive = y == 1
    cells_w = np.zeros((len(w), len(table.cell_counts)))
    keys = {}
    for j, r in enumerate(ranked):
        tp = np.cumsum(r.y_sorted)[r.ends]
        holds = np.diff(tp, prepend=0.0) > 0
        before = np.cumsum(holds) - holds
        group = np.repeat(np.arange(len(r.ends)), np.diff(r.ends, prepend=-1))
        stretch[j][r.order] = before[group]
    for i in np.flatnonzero(~positive):
        key = tuple(int(s[i]) for s in stretch)
        if any(k < steps for k, steps in zip(key, table.steps, strict=True)):
            keys.setdefault(key, []).append(i)
    for c in range(len(table.cell_counts)):
        key = tuple(int(s[c]) for s in table.cell_stretch)
        cells_w[:, c] = w[:, keys[key]].sum(axis=1)
        assert len(keys[key]) == table.cell_counts[c]
    got = bootstrap.ap_collapsed(cells_w, w[:, positive], table)
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got[0, 0] == pytest.approx(average_precision_score(y, sb), rel=1e-12)


def test_low_prevalence_ap_agrees_with_the_row_level_bootstrap() -> None:
    """50 positives in 50,000 rows (the large-table path): the engine's AP replicates agree
    with an exact row-level Poisson bootstrap within Monte-Carlo error. Two independent
    2000-replicate quantiles differ by ~0.085 replicate SD; the bound is 0.25 (3 of those),
    which the linearised shortcut (0.5 SD off on the candidate's AP here) does not meet."""
    n, positives, resamples = 50_000, 50, 2000
    y, sb, sc = _low_prevalence(n, positives, 6)
    ranked = [_ranked(y, sb), _ranked(y, sc)]
    ll_b, ll_c = metrics.binary_log_losses(y, sb), metrics.binary_log_losses(y, sc)
    columns = np.column_stack([ll_b, ll_c])
    rep = bootstrap.continuous_replicates(
        columns, ranked, ll_c - ll_b, resamples, np.random.default_rng(7)
    )
    assert not rep.exact and rep.ap_method == ", AP collapsed exact"
    ref = bootstrap.exact_replicates(columns, ranked, resamples, np.random.default_rng(8))
    for ours, theirs in (
        (rep.ap[:, 1] - rep.ap[:, 0], ref.ap[:, 1] - ref.ap[:, 0]),
        (rep.ap[:, 1], ref.ap[:, 1]),
    ):
        q = [0.025, 0.5, 0.975]
        _close(np.quantile(ours, q), np.quantile(theirs, q), theirs.std(), tol=0.25)
        assert ours.std() == pytest.approx(theirs.std(), rel=0.08)
