"""The worked examples of the compare chapter (docs/compare.md, and so README.md) against the
code: each number the text prints is recomputed here and looked up in the text."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ml_ci.compare import paired
from ml_ci.compare.estimates import InvertedEstimate, NormalEstimate, PointEstimate
from ml_ci.compare.gates import MetricStats, check_gate, decide, holm
from ml_ci.config.compare import Gate

ROOT = Path(__file__).resolve().parents[2]


def _example(number: int) -> str:
    text = (ROOT / "docs" / "compare.md").read_text(encoding="utf-8")
    text = text[text.index("**Worked examples**") :]
    start = text.index(f"\n{number}. *")
    end = text.find(f"\n{number + 1}. *", start)
    return " ".join(text[start:end].split()).replace("\u2212", "-")  # the typeset minus


def _has(example: str, value: float, fmt: str) -> None:
    shown = format(value, fmt)
    assert re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d)", example), (shown, example)


def _stats(name: str, est: object, n: int = 1000) -> MetricStats:
    return MetricStats(name, None, 0.8, 0.8, est, est, None, "m", n)  # type: ignore[arg-type]


def test_example_1_roc_auc_non_inferiority() -> None:
    text = _example(1)
    mo = paired.DeLongMoments(0.850, 0.846, 0.0003, 0.0003, 0.000282)
    _has(text, mo.se_delta, ".3f")
    est = InvertedEstimate(mo.delta, lambda z: paired.mover_auc_difference(mo, z), "MOVER")
    gate = Gate(metric="roc_auc", margin=0.02)
    check = check_gate(gate, _stats("roc_auc", est), 0.05)
    assert decide([check], 0.05, "none")[0].verdict == "pass" and "**pass**" in text
    _has(text, est.lower(0.05), ".4f")
    _has(text, check.p_value, ".3f")  # type: ignore[arg-type]
    wald = NormalEstimate(mo.delta, mo.se_delta, "wald")
    _has(text, wald.lower(0.05), ".4f")
    _has(text, wald.p_above(-0.02), ".4f")


def test_example_2_superior_accuracy() -> None:
    text = _example(2)
    counts = paired.PairedCounts(700, 60, 35, 205)
    _has(text, paired.mcnemar_exact_p(counts), ".4f")
    low, high = paired.newcombe_paired(counts, 1.959963984540054)
    _has(text, low, ".4f")
    _has(text, high, ".4f")
    est = paired.accuracy_delta(counts)
    _has(text, est.lower(0.05), ".4f")
    check = check_gate(Gate(metric="accuracy", rule="superior"), _stats("accuracy", est), 0.05)
    _has(text, check.p_value, ".4f")  # type: ignore[arg-type]
    assert decide([check], 0.05, "none")[0].verdict == "pass"


def test_example_5_inconclusive_and_6_holm() -> None:
    text = _example(5)
    est = NormalEstimate(-0.010, 0.012, "n")
    _has(text, est.lower(0.05), ".4f")
    _has(text, est.upper(0.05), ".4f")
    _has(text, est.mde(0.05), ".3f")  # type: ignore[arg-type]
    check = check_gate(Gate(metric="roc_auc", margin=0.02), _stats("roc_auc", est), 0.05)
    assert decide([check], 0.05, "none")[0].verdict == "inconclusive"
    text = _example(6)
    assert "0.03, 0.06, 0.06" in text
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_example_7_a_tie() -> None:
    text = _example(7)
    gate = Gate(metric="accuracy", rule="superior", margin=0.05)
    assert repr(0.85 - 0.80) in text
    tie = check_gate(gate, _stats("accuracy", PointEstimate(0.85 - 0.80, "p")), 0.05)
    assert decide([tie], 0.05, "none")[0].verdict == "inconclusive" and "**inconclusive**" in text
    clear = check_gate(gate, _stats("accuracy", PointEstimate(0.86 - 0.80, "p")), 0.05)
    assert decide([clear], 0.05, "none")[0].verdict == "pass"


def test_example_8_latency_order_statistic_bound() -> None:
    from scipy.stats import binom

    text = _example(8)
    x = np.random.default_rng(2).gamma(16, 8.3, 500).round(1)
    assert "default_rng(2).gamma(16, 8.3, 500)" in text
    est = paired.QuantileEstimate(float(np.quantile(x, 0.95)), np.sort(x), 0.95, "column")
    _has(text, est.value, ".1f")
    upper = est.upper(0.05)
    k = int(np.searchsorted(est.sorted_values, upper) + 1)
    assert k == 484 and "x₍₄₈₄₎" in text
    assert binom.cdf(k - 1, 500, 0.95) >= 0.95 > binom.cdf(k - 2, 500, 0.95)
    _has(text, upper, ".1f")
    _has(text, float(est.sorted_values[487]), ".1f")  # x_(488): the wrong, 99.7% bound
    _has(text, 100 * binom.cdf(487, 500, 0.95), ".1f")  # 99.7 (%)
    _has(text, est.p_below(200.0), ".3f")
    gate = Gate(metric="latency_p95_ms", rule="absolute", max=200)
    assert (
        decide([check_gate(gate, _stats("latency_p95_ms", est, 500), 0.05)], 0.05, "none")[
            0
        ].verdict
        == "pass"
    )
    lower = est.lower(0.05)
    _has(text, lower, ".1f")
    assert int(np.searchsorted(est.sorted_values, lower) + 1) == 467
    tight = Gate(metric="latency_p95_ms", rule="absolute", max=180)
    assert (
        decide([check_gate(tight, _stats("latency_p95_ms", est, 500), 0.05)], 0.05, "none")[
            0
        ].verdict
        == "fail"
    )
