"""Fairness gaps: values equal fairlearn's; the bound on the gap's change holds at ties."""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from ml_ci.compare.fairness import (
    GroupCells,
    by_group,
    contrasts,
    gap,
    gap_change,
    group_cells,
    intersect,
    poisson_replicates,
)


def _rows(seed: int = 0, n: int = 3000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    y = rng.integers(0, 2, size=n)
    lift = np.select([group == "a", group == "b"], [0.1, -0.05], 0.0)
    base = (rng.random(n) < 0.3 + 0.4 * y + lift).astype(int)
    cand = np.where(rng.random(n) < 0.85, base, 1 - base)
    return {"group": group, "y": y, "base": base, "cand": cand}


def test_gaps_equal_fairlearns() -> None:
    rows = _rows()
    cells = group_cells(rows["group"], rows["y"], rows["base"], rows["cand"])
    counts = cells.counts.astype(float)
    for model, pred in ((0, rows["base"]), (1, rows["cand"])):
        dp = demographic_parity_difference(rows["y"], pred, sensitive_features=rows["group"])
        eo = equalized_odds_difference(rows["y"], pred, sensitive_features=rows["group"])
        assert float(gap(counts, model, "demographic_parity_difference")) == pytest.approx(
            dp, abs=1e-9
        )
        assert float(gap(counts, model, "equalized_odds_difference")) == pytest.approx(eo, abs=1e-9)
        for name, function in (
            ("accuracy", accuracy_score),
            ("precision", precision_score),
            ("recall", recall_score),
            ("f1", f1_score),
            ("selection_rate", selection_rate),
        ):
            frame = MetricFrame(
                metrics=function,
                y_true=rows["y"],
                y_pred=pred,
                sensitive_features=rows["group"],
            )
            ours = float(gap(counts, model, f"gap:{name}"))
            assert ours == pytest.approx(frame.difference(method="between_groups"), abs=1e-9)
            table = by_group(cells, name)
            for group, value in frame.by_group.items():
                assert table[str(group)][model] == pytest.approx(value, abs=1e-9)


def test_intersections_label_each_combination() -> None:
    labels = intersect([np.array(["F", "M", "F"]), np.array(["30-40", "30-40", "50+"])])
    assert labels.tolist() == ["F&30-40", "M&30-40", "F&50+"]


def test_non_binary_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="0/1"):
        group_cells(["a", "b"], [0, 2], [0, 1], [1, 1])


def _cells(rng: np.random.Generator, n: int, base: list[float], cand: list[float]) -> GroupCells:
    """Selection rates per group for both models, coupled through one uniform per row (the
    same rows, strongly paired); outcomes independent of predictions, half positive."""
    counts = np.zeros((len(base), 2, 2, 2), dtype=np.int64)
    for g, (sb, sc) in enumerate(zip(base, cand, strict=True)):
        low, high = min(sb, sc), max(sb, sc)
        # (pb, pc) = (0,0), (0,1), (1,0), (1,1)
        probs = [1 - high, sc - low, sb - low, low]
        for y in (0, 1):
            draw = rng.multinomial(n // 2, probs)
            counts[g, y] = draw.reshape(2, 2)
    return GroupCells(tuple(f"g{i}" for i in range(len(base))), counts)


def _false_pass(base: list[float], cand: list[float], margin: float, sims: int, seed: int):
    """Share of datasets where the gate (ours / a naive percentile bootstrap) passes."""
    rng = np.random.default_rng(seed)
    ours = naive = 0
    metric = "demographic_parity_difference"
    for sim in range(sims):
        cells = _cells(rng, 1000, base, cand)
        boot = poisson_replicates(cells.counts, 400, seed * 100_000 + sim)
        result = gap_change(cells, metric, margin=margin, alpha=0.05, replicates=boot)
        ours += result.p_value is not None and result.p_value < 0.05
        theta = np.max(contrasts(boot, 1, metric), -1) - np.max(contrasts(boot, 0, metric), -1)
        naive += np.quantile(theta, 0.95) < margin
    return ours / sims, naive / sims


@pytest.mark.parametrize(
    ("base", "cand"),
    [
        ([0.3, 0.3, 0.3], [0.3, 0.3, 0.35]),  # baseline: three groups tie (gap 0)
        ([0.3, 0.35, 0.35], [0.3, 0.35, 0.40]),  # baseline: two tie at the top
    ],
    ids=["three-tied", "top-tied"],
)
def test_false_pass_at_the_margin_is_at_most_alpha_with_ties(base, cand) -> None:
    # the true gap widens by exactly the margin (0.05): passing is a false pass. A naive
    # percentile bootstrap of (max - min) differences passes ~20-30 % here (printed for the
    # record); the simultaneous bound stays at or under alpha.
    sims = 1000
    ours, naive = _false_pass(base, cand, 0.05, sims, seed=11)
    se = (0.05 * 0.95 / sims) ** 0.5
    print(f"false pass: simultaneous bound {ours:.3f}, naive percentile {naive:.3f}")
    assert ours <= 0.05 + 3 * se
    assert naive > 0.05 + 3 * se  # the trap is real in this very simulation


def test_a_kept_gap_passes_and_a_widened_recall_gap_fails() -> None:
    rng = np.random.default_rng(5)
    n = 8000
    group = np.repeat(["a", "b"], n // 2)
    y = rng.integers(0, 2, size=n)
    recall = np.where(group == "b", 0.70, 0.80)  # the baseline's recall gap: 0.10
    hit = rng.random(n)
    base = np.where(y == 1, hit < recall, rng.random(n) < 0.10).astype(int)
    # candidate 1 keeps both recalls (its errors fall on mostly the same rows);
    # candidate 2's recall drops to 0.55 in group b: the gap widens by ~0.15
    jitter = np.clip(hit + rng.normal(0, 0.05, n), 0, 1)
    kept = np.where(y == 1, jitter < recall, base).astype(int)
    worse = np.where(y == 1, hit < np.where(group == "b", 0.55, 0.80), base).astype(int)
    results = {}
    for name, cand in (("kept", kept), ("worse", worse)):
        cells = group_cells(group, y, base, cand)
        boot = poisson_replicates(cells.counts, 1000, 1)
        results[name] = gap_change(cells, "gap:recall", margin=0.05, alpha=0.05, replicates=boot)
    ok, bad = results["kept"], results["worse"]
    assert ok.delta is not None and abs(ok.delta) < 0.03
    assert ok.p_value is not None and ok.p_value < 0.05 and ok.upper is not None
    assert ok.upper < 0.05
    assert bad.delta is not None and bad.delta > 0.1
    assert bad.p_value is not None and bad.p_value > 0.5 and bad.upper is not None
    assert bad.upper > 0.05


def test_small_groups_are_reported_not_gated() -> None:
    rows = _rows(n=2000)
    cells = group_cells(rows["group"], rows["y"], rows["base"], rows["cand"])
    sizes = dict(zip(cells.groups, cells.sizes, strict=True))
    boot = poisson_replicates(cells.counts, 200, 3)
    result = gap_change(
        cells,
        "demographic_parity_difference",
        margin=0.05,
        alpha=0.05,
        replicates=boot,
        min_size=sizes["c"] + 1,
    )
    assert result.groups == ("a", "b")
    one = gap_change(cells, "gap:recall", margin=0.05, alpha=0.05, replicates=boot, min_size=10**6)
    assert one.reason == "fewer than 2 groups" and one.p_value is None
