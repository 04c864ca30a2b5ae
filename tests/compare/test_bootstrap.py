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
