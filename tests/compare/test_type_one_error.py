"""Type-I error of non-inferiority gates, simulated through the real engine.

At the boundary of the null (true delta exactly -margin, direction-aware) the gate must
pass at most alpha of the time (plus 3 Monte-Carlo standard errors); at a true delta of 0
it must pass often (power), so the test can fail both ways.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from ml_ci.compare.engine import compare_paired
from ml_ci.compare.inputs import Paired, Side
from ml_ci.config import validate_config

ALPHA = 0.05


def _config(metric: str, margin: float, resamples: int = 1000):  # type: ignore[no-untyped-def]
    return validate_config(
        {
            "task": "binary",
            "gates": [{"metric": metric, "rule": "non_inferior", "margin": margin}],
            "compare": {
                "alpha": ALPHA,
                "correction": "none",
                "bootstrap": {"resamples": resamples},
            },
        }
    )


def _paired(y: np.ndarray, sb: np.ndarray, sc: np.ndarray) -> Paired:
    y = y.astype(np.int64)
    return Paired(
        "binary",
        y,
        Side((sb >= 0.5).astype(np.int64), sb, None),
        Side((sc >= 0.5).astype(np.int64), sc, None),
        ["0", "1"],
    )


def _limit(sims: int) -> float:
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / sims)


def _pass_rate(make, config, sims: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    passes = 0
    for i in range(sims):
        section = compare_paired(make(rng), config, seed=i)
        passes += section.gates[0].verdict == "pass"
    return passes / sims


# --- ROC AUC (DeLong) -------------------------------------------------------------------


def _binormal(mu_b: float, mu_c: float, n: int, rho: float = 0.6):  # type: ignore[no-untyped-def]
    """Negatives' scores N(0, 1), positives' N(mu, 1) per model, the two models' scores
    bivariate normal with correlation rho; AUC = Phi(mu / sqrt(2)). Scores go through Phi
    (monotone, AUC unchanged) to become probabilities."""

    def make(rng: np.random.Generator) -> Paired:
        y = rng.random(n) < 0.5
        z1 = rng.standard_normal(n)
        z2 = rho * z1 + math.sqrt(1 - rho**2) * rng.standard_normal(n)
        sb = stats.norm.cdf(z1 + mu_b * y)
        sc = stats.norm.cdf(z2 + mu_c * y)
        return _paired(y, sb, sc)

    return make


def test_roc_auc_non_inferiority_type_one_error_and_power() -> None:
    """AUC_b = 0.80 -> mu_b = sqrt(2) Phi^-1(0.80); AUC_c = AUC_b - margin exactly."""
    margin, n, sims = 0.05, 300, 200
    mu_b = math.sqrt(2) * stats.norm.ppf(0.80)
    mu_c = math.sqrt(2) * stats.norm.ppf(0.80 - margin)
    config = _config("roc_auc", margin)
    false_pass = _pass_rate(_binormal(mu_b, mu_c, n), config, sims, seed=11)
    power = _pass_rate(_binormal(mu_b, mu_b, n), config, sims, seed=12)
    print(f"roc_auc: false pass {false_pass:.3f}, power {power:.3f}")
    assert false_pass <= _limit(sims)
    assert power > 0.5


# --- log loss (paired Poisson bootstrap) --------------------------------------------------

P_GROUPS = np.array([0.15, 0.35, 0.5, 0.65, 0.85])  # true P(y=1), equally likely


def _tempered(t: float) -> np.ndarray:
    """Predicted probabilities sigmoid(t logit p) per group."""
    logit = np.log(P_GROUPS / (1 - P_GROUPS))
    return 1 / (1 + np.exp(-t * logit))


def _expected_log_loss(t: float) -> float:
    """Exact: mean over groups of -p log q - (1 - p) log(1 - q), q = sigmoid(t logit p)."""
    q = _tempered(t)
    return float(np.mean(-P_GROUPS * np.log(q) - (1 - P_GROUPS) * np.log(1 - q)))


def _tempered_pair(t_b: float, t_c: float, n: int):  # type: ignore[no-untyped-def]
    qb, qc = _tempered(t_b), _tempered(t_c)

    def make(rng: np.random.Generator) -> Paired:
        g = rng.integers(0, len(P_GROUPS), n)
        y = rng.random(n) < P_GROUPS[g]
        return _paired(y, qb[g], qc[g])

    return make


def test_log_loss_non_inferiority_type_one_error_and_power() -> None:
    """Baseline calibrated (t=1); candidate over-confident, t solved so that its exact
    expected log loss is the baseline's + margin. Power: two differently tempered models
    (t=0.7 and the t > 1 of equal exact expected log loss), true delta 0."""
    margin, n, sims = 0.04, 400, 200
    target = _expected_log_loss(1.0) + margin
    t_c = optimize.brentq(lambda t: _expected_log_loss(t) - target, 1.0, 10.0, xtol=1e-14)
    t_eq = optimize.brentq(
        lambda t: _expected_log_loss(t) - _expected_log_loss(0.7), 1.0, 10.0, xtol=1e-14
    )
    # 500 replicates: the percentile bound's Monte-Carlo error is small next to the
    # sampling spread at n=400, and it keeps 600 engine runs well inside the time budget.
    config = _config("log_loss", margin, resamples=400)
    false_pass = _pass_rate(_tempered_pair(1.0, t_c, n), config, sims, seed=21)
    power = _pass_rate(_tempered_pair(0.7, t_eq, n), config, sims, seed=22)
    print(f"log_loss: false pass {false_pass:.3f}, power {power:.3f}")
    assert false_pass <= _limit(sims)
    assert power > 0.5


def _binormal_batch(rng: np.random.Generator, sims: int, n: int, m: int, mu_b: float, mu_c: float):  # type: ignore[no-untyped-def]
    """sims datasets at once: m positives then n - m negatives, scores as in _binormal."""
    rho = 0.6
    z1 = rng.standard_normal((sims, n))
    z2 = rho * z1 + math.sqrt(1 - rho**2) * rng.standard_normal((sims, n))
    y = np.r_[np.ones(m, dtype=np.int64), np.zeros(n - m, dtype=np.int64)]
    return y, z1 + mu_b * y, z2 + mu_c * y


def test_roc_auc_non_inferiority_type_one_error_with_6000_datasets() -> None:
    """The regime where DeLong's normal approximation runs liberal: high AUC (0.95 vs 0.90)
    and few positives (100 of 1,000). 6,000 datasets (MC SE 0.0028): the Wald interval
    passes ~0.067 of them here, above the limit alpha + 3 SE = 0.058; the gate's interval
    (logit-scale DeLong intervals combined by MOVER) must stay within it. The gate itself
    (check_gate + decide) decides each dataset, from the engine's DeLong functions."""
    from ml_ci.compare import paired
    from ml_ci.compare.gates import MetricStats, check_gate, decide
    from ml_ci.config.compare import Gate

    n, m, margin, sims = 1000, 100, 0.05, 6000
    mu_b = math.sqrt(2) * stats.norm.ppf(0.95)
    mu_c = math.sqrt(2) * stats.norm.ppf(0.95 - margin)
    gate = Gate(metric="roc_auc", margin=margin)
    rng = np.random.default_rng(31)
    passes = wald_passes = 0
    for _block in range(sims // 500):
        y, xb, xc = _binormal_batch(rng, 500, n, m, mu_b, mu_c)
        for i in range(500):
            comps = [paired.delong_components(s, y, np.argsort(s)) for s in (xb[i], xc[i])]
            delta, cand, p = paired.delong_pair(comps[0], comps[1])
            stats_ = MetricStats("roc_auc", None, comps[0][0], cand.value, delta, cand, p, "", n)
            check = check_gate(gate, stats_, ALPHA)
            passes += decide([check], ALPHA, "none")[0].verdict == "pass"
            moments = paired.delong_moments(comps[0], comps[1])
            wald_passes += moments.delta - 1.6448536 * moments.se_delta > -margin
    rate, wald = passes / sims, wald_passes / sims
    print(f"roc_auc at AUC 0.95, 100 positives: false pass {rate:.4f} (Wald {wald:.4f})")
    limit = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / sims)
    assert wald > limit  # the regime is one where the old interval fails this test
    assert rate <= limit
