"""Uncertainty of one quantity (a paired delta, or the candidate's own value).

Every method gives the same three things, and they agree BY CONSTRUCTION:

* ``lower(a)`` / ``upper(a)``: one-sided (1 - a) confidence bounds;
* ``p_above(m)``: one-sided p-value of H0 "theta <= m" (small when theta is clearly above m);
* ``p_below(m)``: one-sided p-value of H0 "theta >= m".

Agreement means ``p_above(m) < a``  <=>  ``lower(a) > m`` (and the mirror for ``upper``), so a
gate decided on its p-value (needed for Holm) is decided exactly as the confidence bound says
when no correction is applied. The two-sided interval of a metric is ``(lower(a/2), upper(a/2))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

POWER = 0.8  # power used for the minimum detectable effect


# The standard library's normal distribution, not scipy.special: importing scipy costs about
# 0.3 s of CPU per ml-ci compare run, more than the statistics of a 100,000-row table.
_NORMAL = NormalDist()


def _z(a: float) -> float:
    """z_{1-a} = -Phi^-1(a) (accurate for small a, where 1 - a would round to 1)."""
    return -_NORMAL.inv_cdf(a)


def _sf(x: float) -> float:
    """1 - Phi(x) = erfc(x / sqrt 2) / 2, accurate in the upper tail."""
    return 0.5 * math.erfc(x / math.sqrt(2))


class Estimate:
    """Base class; subclasses implement the four methods and ``se``."""

    value: float
    method: str

    def lower(self, a: float) -> float:
        raise NotImplementedError

    def upper(self, a: float) -> float:
        raise NotImplementedError

    def p_above(self, m: float) -> float:
        raise NotImplementedError

    def p_below(self, m: float) -> float:
        raise NotImplementedError

    @property
    def se(self) -> float | None:
        """Standard error (for the minimum detectable effect); None when unknown."""
        return None

    def interval(self, alpha: float) -> tuple[float, float]:
        """Two-sided (1 - alpha) interval."""
        return self.lower(alpha / 2), self.upper(alpha / 2)

    def mde(self, alpha: float) -> float | None:
        """Smallest true distance from the threshold detected with 80% power by a one-sided
        level-alpha test at this sample size: (z_{1-alpha} + z_{power}) * se."""
        se = self.se
        # se 0 is no information (a degenerate estimate), not an MDE of 0
        return None if se is None or se == 0 else (_z(alpha) + _z(1 - POWER)) * se


@dataclass(frozen=True)
class NormalEstimate(Estimate):
    """theta ~ Normal(value, se^2): DeLong, and Wald-type methods.

    lower(a) = value - z_{1-a} se;  p_above(m) = 1 - Phi((value - m) / se).
    se = 0 (e.g. DeLong on identical models) is no evidence, not certainty: p = 1 both ways
    and the bounds are -inf / +inf, so the bound and the p-value still agree.
    """

    value: float
    std_error: float
    method: str

    @property
    def se(self) -> float | None:
        return self.std_error

    def lower(self, a: float) -> float:
        if self.std_error == 0:
            return -math.inf
        return self.value - _z(a) * self.std_error

    def upper(self, a: float) -> float:
        if self.std_error == 0:
            return math.inf
        return self.value + _z(a) * self.std_error

    def p_above(self, m: float) -> float:
        if self.std_error == 0:
            return 1.0
        return _sf((self.value - m) / self.std_error)

    def p_below(self, m: float) -> float:
        if self.std_error == 0:
            return 1.0
        return _sf((m - self.value) / self.std_error)


@dataclass(frozen=True)
class ReplicateEstimate(Estimate):
    """Percentile bootstrap from ``B`` replicates r (sorted).

    p_above(m) = (#{r <= m} + 1) / (B + 1) (never exactly 0), and lower(a) is the k-th
    smallest replicate with k = ceil(a (B + 1)) - 1, so that
    p_above(m) < a  <=>  #{r <= m} <= k - 1  <=>  r_(k) > m.  (k = 0: no bound, -inf.)
    """

    value: float
    replicates: npt.NDArray[np.float64]
    method: str

    @staticmethod
    def of(value: float, replicates: npt.NDArray[np.float64], method: str) -> ReplicateEstimate:
        finite = replicates[np.isfinite(replicates)]
        return ReplicateEstimate(value, np.sort(finite), method)

    def _k(self, a: float) -> int:
        b = len(self.replicates)
        return min(math.ceil(a * (b + 1) - 1e-9) - 1, b)

    @property
    def se(self) -> float | None:
        return float(np.std(self.replicates, ddof=1)) if len(self.replicates) > 1 else None

    def lower(self, a: float) -> float:
        k = self._k(a)
        return float(self.replicates[k - 1]) if k >= 1 else -math.inf

    def upper(self, a: float) -> float:
        k = self._k(a)
        return float(self.replicates[len(self.replicates) - k]) if k >= 1 else math.inf

    def p_above(self, m: float) -> float:
        below = int(np.searchsorted(self.replicates, m, side="right"))
        return (below + 1) / (len(self.replicates) + 1)

    def p_below(self, m: float) -> float:
        b = len(self.replicates)
        above = b - int(np.searchsorted(self.replicates, m, side="left"))
        return (above + 1) / (b + 1)


@dataclass(frozen=True)
class InvertedEstimate(Estimate):
    """An interval family given as bounds(z) -> (low, high), monotone in z (Newcombe, Wilson).

    lower(a) = bounds(z_{1-a})[0]. The p-value is found by inverting the family: the z at
    which the bound meets m (bisection), p = 1 - Phi(z); so p < a <=> lower(a) > m.
    """

    value: float
    bounds: Callable[[float], tuple[float, float]]
    method: str

    @property
    def se(self) -> float | None:
        low, high = self.bounds(1.0)
        return (high - low) / 2

    def lower(self, a: float) -> float:
        return self.bounds(_z(a))[0]

    def upper(self, a: float) -> float:
        return self.bounds(_z(a))[1]

    def _solve(self, side: int, m: float) -> float:
        """z >= 0 where bounds(z)[side] == m (the bound moves away from value as z grows):
        bracket by doubling, then the Illinois variant of regula falsi (superlinear, keeps
        the bracket; scipy.optimize costs a second to import)."""
        sign = 1 if side == 0 else -1

        def gap(z: float) -> float:
            return (self.bounds(z)[side] - m) * sign

        lo, hi = 0.0, 1.0
        f_lo, f_hi = gap(lo), gap(hi)
        if f_lo <= 0:
            return 0.0
        while hi < 40 and f_hi > 0:
            lo, f_lo = hi, f_hi
            hi *= 2
            f_hi = gap(hi)
        if f_hi > 0:
            return hi  # m lies beyond every bound the family reaches: p ~ 0
        kept, z = 0, (lo + hi) / 2
        for _ in range(100):
            z = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else (lo + hi) / 2
            f = gap(z)
            if f > 0:
                lo, f_lo = z, f
                if kept == -1:
                    f_hi /= 2
                kept = -1
            else:
                hi, f_hi = z, f
                if kept == 1:
                    f_lo /= 2
                kept = 1
            if hi - lo < 1e-12 or abs(f) < 1e-15:
                break
        return z

    def p_above(self, m: float) -> float:
        if self.value > m:
            return _sf(self._solve(0, m))
        if self.value < m:
            return 1 - _sf(self._solve(1, m))
        return 0.5

    def p_below(self, m: float) -> float:
        if self.value < m:
            return _sf(self._solve(1, m))
        if self.value > m:
            return 1 - _sf(self._solve(0, m))
        return 0.5


@dataclass(frozen=True)
class PointEstimate(Estimate):
    """No interval (e.g. a few timed runs): bounds are the value; p-values are 0 or 1."""

    value: float
    method: str

    def lower(self, a: float) -> float:
        return self.value

    def upper(self, a: float) -> float:
        return self.value

    def p_above(self, m: float) -> float:
        return 0.0 if self.value > m else 1.0

    def p_below(self, m: float) -> float:
        return 0.0 if self.value < m else 1.0
