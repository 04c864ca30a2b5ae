"""Anytime-valid (time-uniform) confidence sequences for canary analysis.

A confidence sequence (CS) ``(C_n)`` covers its parameter at EVERY sample size at once:
``P(exists n: theta not in C_n) <= alpha``. So a canary may be looked at after every interval,
for as long as it runs, and a verdict taken at any look keeps its error rate; a fixed-level
test repeated at each look does not (it is what Kayenta, Argo Rollouts and Flagger do).

**The martingale** (Robbins 1970; Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform,
nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2): their beta-binomial
conjugate-mixture boundary for sub-Bernoulli processes, ``beta_binomial_log_mixture`` in the
authors' confseq library; checked here against numerical integration of the mixture). For observations ``x_i`` in ``[0, 1]`` with mean
``p``, ``S_n = sum x_i``::

    M_n(p) = B(a + S_n, b + n - S_n) / B(a, b) / (p^S_n (1 - p)^(n - S_n))

is a nonnegative supermartingale with ``M_0 = 1``: for each fixed ``q`` the factor
``(q/p)^x ((1-q)/(1-p))^(1-x)`` is convex in ``x``, so its mean over any law on ``[0, 1]`` with
mean ``p`` is at most its mean over Bernoulli(p), which is 1 (Hoeffding's convexity argument,
the "sub-Bernoulli" condition); mixing ``q ~ Beta(a, b)`` keeps the supermartingale property.
Ville's inequality gives the CS ``{p : M_n(p) < 1/alpha}`` -- exact, not asymptotic, and it
adapts to rare events (error rates of 0.1 %), where CLT-based sequences (mSPRT) break down.
Proportions (error rate, accuracy) and bounded means (Brier score) use the same formula; it needs
only ``(n, S_n)``, so looks are cumulative sums of buckets. Prior: Jeffreys ``a = b = 1/2``.

**Quantiles** (p95 latency) reduce to the same CS at the unknown true quantile ``x*``
(Howard & Ramdas 2022, "Sequential estimation of quantiles", Bernoulli 28(3), Section 2: a CS
for ``F(x*)`` at the one fixed point ``x*`` yields a quantile CS). With ``K(e) = #{x_i < e}`` at
the fixed latency bin edges ``e``: on the event that the CS of the Bernoulli sequence
``1{x_i < x*}`` (mean ``F(x*-) <= q``) and that of ``1{x_i <= x*}`` (mean ``F(x*) >= q``) both
cover, each at ``alpha/2``, ``x* < e`` whenever the lower bound of the CS at count ``K(e)``
exceeds ``q``, and ``x* >= e`` whenever its upper bound is below ``q`` (``K`` is monotone in
``e``). Bounds are bin edges, so binning only widens them (conservative, never invalid).

**Differences.** Canary and production serve different requests (unpaired). A CS for
``theta_c - theta_p`` is ``[L_c - U_p, U_c - L_p]`` from a CS per version at ``alpha/2`` each
(union bound); a relative difference uses ``[L_c/U_p - 1, U_c/L_p - 1]``. Across gates the
caller splits alpha (Bonferroni): rollback or promote errors are then controlled for all gates
together, at every look. Intersecting a CS with its own past (running intersection) stays valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
PRIOR_A = 0.5  # Jeffreys prior of the mixture: data-independent, puts mass near 0 and 1
PRIOR_B = 0.5
_ITERATIONS = 64  # bisection steps: the bracket shrinks by 2**-64, below float resolution


def log_mixture(p: npt.ArrayLike, s: npt.ArrayLike, n: npt.ArrayLike) -> Array:
    """``log M_n(p)`` of the beta-binomial mixture (elementwise; ``0 < p < 1``, ``0 <= s <= n``)."""
    from scipy.special import betaln

    p_ = np.asarray(p, dtype=float)
    s_ = np.asarray(s, dtype=float)
    n_ = np.asarray(n, dtype=float)
    value = (
        betaln(PRIOR_A + s_, PRIOR_B + n_ - s_)
        - betaln(PRIOR_A, PRIOR_B)
        - s_ * np.log(p_)
        - (n_ - s_) * np.log1p(-p_)
    )
    return np.asarray(value, dtype=float)


def _bisect(
    inside: Array,
    outside: Array,
    rejects: npt.NDArray[np.bool_],
    f: Callable[[Array], Array],
    threshold: Array,
) -> Array:
    """Boundary between ``inside`` (``f < threshold``) and ``outside`` (``f >= threshold``),
    elementwise; where ``rejects`` it returns the rejecting side's end, else the other one."""
    good = inside.copy()
    bad = outside.copy()
    for _ in range(_ITERATIONS):
        middle = (good + bad) / 2
        crossed = f(middle) >= threshold
        bad = np.where(crossed, middle, bad)
        good = np.where(crossed, good, middle)
    return np.where(rejects, bad, good)


def mean_cs(s: npt.ArrayLike, n: npt.ArrayLike, alpha: float) -> tuple[Array, Array]:
    """Anytime-valid ``(1 - alpha)`` CS ``(lower, upper)`` for the mean of ``[0, 1]`` data.

    ``s`` is the running sum and ``n`` the count (arrays broadcast). ``n == 0`` gives ``[0, 1]``.
    The CS is ``{p : log M_n(p) < log(1/alpha)}``, an interval around ``s/n`` (``log M_n`` is
    convex in ``p`` with its minimum at ``s/n``); its ends are found by bisection.
    """
    s_, n_ = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(n, dtype=float))
    s_ = np.clip(s_, 0.0, n_)
    threshold = np.full(s_.shape, math.log(1 / alpha))
    safe_n = np.where(n_ > 0, n_, 1.0)
    hat = np.where(n_ > 0, s_ / safe_n, 0.5)
    tiny = np.full(s_.shape, 1e-300)

    def f(p: Array) -> Array:
        return log_mixture(np.clip(p, 1e-300, 1 - 1e-16), s_, n_)

    # lower end: on (0, hat); when s == 0 the CS reaches 0 (log M stays finite as p -> 0)
    lower_exists = (s_ > 0) & (n_ > 0)
    lower = _bisect(hat, np.where(lower_exists, tiny, hat), lower_exists, f, threshold)
    lower = np.where(lower_exists, lower, 0.0)
    upper_exists = (s_ < n_) & (n_ > 0)
    top = np.full(s_.shape, 1 - 1e-16)
    upper = _bisect(hat, np.where(upper_exists, top, hat), upper_exists, f, threshold)
    upper = np.where(upper_exists, upper, 1.0)
    return np.where(n_ > 0, lower, 0.0), np.where(n_ > 0, upper, 1.0)


def count_thresholds(n: npt.ArrayLike, q: float, alpha: float) -> tuple[Array, Array]:
    """Counts ``(c_low, c_high)`` at which the CS for a Bernoulli mean excludes ``q``.

    For ``n`` trials, a count ``k <= c_low`` gives a CS wholly below ``q`` and ``k >= c_high`` one
    wholly above (``log M_n(q)`` is convex in the count with its minimum near ``n q``).
    ``c_low = -inf`` / ``c_high = +inf`` where no count does.
    """
    n_ = np.asarray(n, dtype=float)
    threshold = np.full(n_.shape, math.log(1 / alpha))
    centre = n_ * q

    def f(k: Array) -> Array:
        return log_mixture(q, k, n_)

    at_centre = f(centre) >= threshold
    low_exists = (f(np.zeros_like(n_)) >= threshold) & (n_ > 0)
    c_low = _bisect(centre, np.zeros_like(n_), low_exists, f, threshold)
    # `_bisect` returns the rejecting side's point: the largest count known to reject
    c_low = np.where(at_centre, centre, c_low)
    c_low = np.where(low_exists, c_low, -np.inf)
    high_exists = (f(n_) >= threshold) & (n_ > 0)
    c_high = _bisect(centre, n_.copy(), high_exists, f, threshold)
    c_high = np.where(at_centre, centre, c_high)
    c_high = np.where(high_exists, c_high, np.inf)
    return c_low, c_high


def quantile_cs(
    counts_below: Array, n: npt.ArrayLike, q: float, alpha: float, edges: Array
) -> tuple[Array, Array]:
    """Anytime-valid ``(1 - alpha)`` CS ``(lower, upper)`` for the ``q``-quantile of binned data.

    ``counts_below[..., j]`` is ``#{x < edges[j]}`` (cumulative bin counts, nondecreasing in
    ``j``; ``edges[0] = 0``, ``edges[-1] = inf``). Each side holds at ``alpha/2`` (see module).
    The quantile satisfies ``lower <= x* < upper``.
    """
    c_low, c_high = count_thresholds(np.asarray(n, dtype=float), q, alpha / 2)
    return quantile_bounds(counts_below, c_low, c_high, edges)


def quantile_bounds(
    counts_below: Array, c_low: Array, c_high: Array, edges: Array
) -> tuple[Array, Array]:
    """Quantile bounds from count thresholds: ``lower`` is the last edge whose count is at most
    ``c_low`` (the Bernoulli bound there is below ``q``), ``upper`` the first whose count is at
    least ``c_high`` (bound above ``q``); see the module docstring for why that covers ``x*``."""
    below = counts_below <= c_low[..., None]
    lower_index = below.sum(axis=-1) - 1  # K is monotone, so these edges are a prefix
    lower = np.where(lower_index >= 0, edges[np.clip(lower_index, 0, None)], 0.0)
    above = counts_below >= c_high[..., None]
    upper_index = counts_below.shape[-1] - above.sum(axis=-1)
    upper = np.where(
        upper_index < len(edges), edges[np.clip(upper_index, None, len(edges) - 1)], np.inf
    )
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def quantile_point(counts_below: Array, n: npt.ArrayLike, q: float, edges: Array) -> Array:
    """Point estimate of the ``q``-quantile: the upper edge of the bin where ``F`` reaches ``q``."""
    n_ = np.asarray(n, dtype=float)
    reached = counts_below >= np.ceil(q * n_)[..., None]
    index = counts_below.shape[-1] - reached.sum(axis=-1)
    value = edges[np.clip(index, 0, len(edges) - 1)]
    return np.where(n_ > 0, value, np.nan)


def difference_cs(
    canary: tuple[Array, Array], production: tuple[Array, Array]
) -> tuple[Array, Array]:
    """CS for ``theta_c - theta_p`` from a CS per version (each at half the level)."""
    (lc, uc), (lp, up) = canary, production
    with np.errstate(invalid="ignore"):
        return lc - up, uc - lp


def ratio_cs(canary: tuple[Array, Array], production: tuple[Array, Array]) -> tuple[Array, Array]:
    """CS for ``theta_c / theta_p - 1`` (positive parameters) from a CS per version."""
    (lc, uc), (lp, up) = canary, production
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(up > 0, lc / np.where(up > 0, up, 1.0) - 1, -1.0)
        upper = np.where(lp > 0, uc / np.where(lp > 0, lp, 1.0) - 1, np.inf)
    return lower, upper


def fixed_mean_ci(s: npt.ArrayLike, n: npt.ArrayLike, alpha: float) -> tuple[Array, Array]:
    """Fixed-sample Clopper-Pearson ``(1 - alpha)`` interval (valid at ONE look only; it is the
    per-look method of the peers, kept to measure what repeated looks do to it)."""
    from scipy.stats import beta

    s_, n_ = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(n, dtype=float))
    with np.errstate(invalid="ignore"):
        lower = np.where(s_ > 0, beta.ppf(alpha / 2, s_, n_ - s_ + 1), 0.0)
        upper = np.where(s_ < n_, beta.ppf(1 - alpha / 2, s_ + 1, n_ - s_), 1.0)
    return np.nan_to_num(lower, nan=0.0), np.nan_to_num(upper, nan=1.0)


def fixed_count_thresholds(n: npt.ArrayLike, q: float, alpha: float) -> tuple[Array, Array]:
    """Clopper-Pearson analogue of :func:`count_thresholds` (fixed-sample, one look)."""
    from scipy.stats import binom

    n_ = np.asarray(n, dtype=float)
    c_low = binom.ppf(alpha / 2, n_, q) - 1  # P(Bin(n, q) <= k) < alpha/2
    c_high = binom.isf(alpha / 2, n_, q) + 1  # P(Bin(n, q) >= k) < alpha/2
    return np.asarray(c_low, dtype=float), np.asarray(c_high, dtype=float)


def running_intersection(lower: Array, upper: Array) -> tuple[Array, Array]:
    """Intersect each look's CS with all earlier ones (last axis is time): still a valid CS."""
    return np.maximum.accumulate(lower, axis=-1), np.minimum.accumulate(upper, axis=-1)
