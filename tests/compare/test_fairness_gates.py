"""Fairness gates through ``ml-ci compare``: fairlearn's values, a planted widening fails,
the false-pass rate at the margin with tied groups, one shared draw, the Holm family."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import recall_score

from ml_ci.compare import fairness
from ml_ci.compare.engine import fairness_stage
from ml_ci.compare.gates import decide
from ml_ci.compare.inputs import Paired, Side
from ml_ci.config import Config
from ml_ci.record import load_record
from ml_ci.report.view import overall_verdict
from tests.compare.helpers import run_compare

FAIR = """
task: binary
fairness: {groups: [sex, [sex, age_band]], min_size: 100}
gates:
  - {metric: roc_auc, rule: non_inferior, margin: 0.02}
  - {metric: demographic_parity_difference, rule: non_inferior, margin: 0.05}
  - {metric: equalized_odds_difference, rule: non_inferior, margin: 0.05}
  - {metric: gap:recall, rule: non_inferior, margin: 0.05}
"""


def _write(folder: Path, frame: pd.DataFrame, preds: dict[str, np.ndarray]) -> tuple[Path, Path]:
    paths = []
    for name in ("baseline", "candidate"):
        score = preds[name]
        out = frame.assign(y_score=score, y_pred=(score >= 0.5).astype(int))
        path = folder / f"{name}.csv"
        out.to_csv(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def _people(n: int, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    # a rare band: below min_size within sex (reported, not gated)
    age = rng.choice(["<30", "30-50", "50+", "90+"], n, p=[0.35, 0.35, 0.28, 0.02])
    y = rng.integers(0, 2, n)
    lift = np.where(sex == "F", 0.05, -0.05)
    sb = np.clip(0.45 * y + 0.27 + lift + rng.normal(0, 0.2, n), 0, 1).round(3)
    sc = np.clip(sb + rng.normal(0, 0.08, n), 0, 1).round(3)
    frame = pd.DataFrame({"id": np.arange(n), "y_true": y, "sex": sex, "age_band": age})
    return frame, {"baseline": sb, "candidate": sc}


def test_gaps_and_group_rates_equal_fairlearns_through_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, preds = _people(5000, 0)
    base, cand = _write(tmp_path, frame, preds)
    run_compare(tmp_path, base, cand, FAIR, "--json")
    payload = json.loads(capsys.readouterr().out)
    results = {(f["metric"], f["groups"]): f for f in payload["fairness"]}
    assert len(results) == 6
    y = frame["y_true"].to_numpy()
    for groups, columns in (("sex", ["sex"]), ("sex&age_band", ["sex", "age_band"])):
        features = frame[columns]
        sizes = features.value_counts()
        big = (sizes >= 100).reindex(pd.MultiIndex.from_frame(features)).to_numpy()
        for model in ("baseline", "candidate"):
            pred = (preds[model] >= 0.5).astype(int)
            # the gaps are over the gated groups (>= min_size rows), as fairlearn on those rows
            kw = {"sensitive_features": features[big]}
            expected = {
                "demographic_parity_difference": demographic_parity_difference(
                    y[big], pred[big], **kw
                ),
                "equalized_odds_difference": equalized_odds_difference(y[big], pred[big], **kw),
                "gap:recall": MetricFrame(
                    metrics=recall_score, y_true=y[big], y_pred=pred[big], **kw
                ).difference(method="between_groups"),
            }
            for metric, value in expected.items():
                assert results[(metric, groups)][model] == pytest.approx(value, abs=1e-9)
            # per-group rates of every group, gated or not
            frames = {
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
            }
            for rate, function in frames.items():
                table = MetricFrame(
                    metrics=function, y_true=y, y_pred=pred, sensitive_features=features
                ).by_group
                metric = (
                    "demographic_parity_difference"
                    if rate == "selection_rate"
                    else "equalized_odds_difference"
                )
                rows = {
                    r["group"]: r
                    for r in results[(metric, groups)]["by_group"]
                    if r["rate"] == rate
                }
                for key, value in table.items():
                    label = "&".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
                    assert rows[label][model] == pytest.approx(value, abs=1e-9)
    inter = results[("gap:recall", "sex&age_band")]
    small = {r["group"] for r in inter["by_group"] if not r["gated"]}
    assert small == {"F&90+", "M&90+"}
    assert set(inter["gated_groups"]).isdisjoint(small) and len(inter["gated_groups"]) == 6
    gates = [g for g in payload["gates"] if g["groups"]]
    assert {(g["metric"], g["groups"]) for g in gates} == set(results)


def _recall_rows(n: int, drop: float, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Two groups; the candidate's recall in group b is ``drop`` lower than the baseline's."""
    rng = np.random.default_rng(seed)
    group = np.repeat(["a", "b"], n // 2)
    y = rng.integers(0, 2, n)
    hit = rng.random(n)
    recall = np.where(group == "b", 0.70, 0.80)
    negatives = rng.random(n) < 0.1
    base = np.where(y == 1, hit < recall, negatives)
    # the candidate errs on mostly the same rows (jittered), so the pairing is informative
    jitter = np.clip(hit + rng.normal(0, 0.05, n), 0, 1)
    cand = np.where(y == 1, jitter < recall - np.where(group == "b", drop, 0.0), negatives)
    frame = pd.DataFrame({"id": np.arange(n), "y_true": y, "group": group})
    # scores that threshold at 0.5 to the predictions
    preds = {
        "baseline": np.where(base, 0.6 + 0.3 * hit, 0.4 * hit).round(4),
        "candidate": np.where(cand, 0.6 + 0.3 * hit, 0.4 * hit).round(4),
    }
    return frame, preds


RECALL = """
task: binary
fairness: {groups: [group]}
gates:
  - {metric: gap:recall, rule: non_inferior, margin: 0.05}
  - {metric: gap:recall, rule: absolute, max: 0.15}
"""


def test_a_planted_recall_gap_widening_fails_and_a_kept_gap_passes(tmp_path: Path) -> None:
    for drop, code, verdict in ((0.15, 1, "fail"), (0.0, 0, "pass")):
        folder = tmp_path / f"drop{drop}"
        folder.mkdir()
        frame, preds = _recall_rows(8000, drop, 5)
        base, cand = _write(folder, frame, preds)
        assert run_compare(folder, base, cand, RECALL) == code
        section = load_record(folder / "record.json").compare
        assert section is not None
        gate, cap = section.gates
        result, capped = section.fairness
        assert gate.metric == "gap:recall" and gate.groups == "group"
        assert gate.verdict == result.verdict == verdict
        assert cap.rule == capped.rule == "absolute" and cap.verdict == capped.verdict == verdict
        assert result.delta is not None and result.upper is not None
        assert capped.candidate is not None and capped.upper is not None
        if drop:
            # the recall gap widens from 0.10 to 0.25: beyond the margin and beyond the cap
            assert result.delta > 0.1 and result.lower is not None and result.lower > 0.05
            assert capped.lower is not None and capped.lower > 0.15
            reason = overall_verdict(load_record(folder / "record.json")).reason
            assert reason == "2 of 2 gates failed: gap:recall by group, gap:recall by group"
        else:
            assert abs(result.delta) < 0.03 and result.upper < 0.05
            assert capped.candidate < capped.upper < 0.15


def _tied_table(rng: np.random.Generator, base: list[float], cand: list[float]) -> Paired:
    """1000 rows per group; selection rates per group for both models coupled through one
    uniform per row (the same rows, strongly paired); outcomes independent, half positive."""
    per = 1000
    group = np.repeat(np.arange(len(base)), per)
    u = rng.random(len(group))
    pb = (u < np.asarray(base)[group]).astype(np.int64)
    pc = (u < np.asarray(cand)[group]).astype(np.int64)
    y = rng.integers(0, 2, len(group))
    return Paired(
        "binary",
        y,
        Side(pb, pb.astype(np.float64), None),
        Side(pc, pc.astype(np.float64), None),
        [],
        groups={"g": np.char.add("g", group.astype(str))},
    )


@pytest.mark.parametrize(
    ("base", "cand", "gate"),
    [
        ([0.3, 0.3, 0.3], [0.3, 0.3, 0.35], {"margin": 0.05}),
        ([0.3, 0.35, 0.35], [0.3, 0.35, 0.40], {"margin": 0.05}),
        # the candidate's own gap at the cap, with two groups tied at the top / bottom
        ([0.3, 0.3, 0.3], [0.3, 0.35, 0.35], {"rule": "absolute", "max": 0.05}),
        ([0.3, 0.3, 0.3], [0.3, 0.3, 0.35], {"rule": "absolute", "max": 0.05}),
    ],
    ids=["three-tied", "top-tied", "cap-top-tied", "cap-bottom-tied"],
)
def test_false_pass_at_the_margin_is_at_most_alpha_through_the_engine(
    base: list[float], cand: list[float], gate: dict[str, object]
) -> None:
    # the true demographic-parity gap widens by exactly the margin (or equals the cap): a
    # pass is a false pass
    config = Config.model_validate(
        {
            "fairness": {"groups": ["g"], "min_size": 100},
            "compare": {"bootstrap": {"resamples": 200}},
            "gates": [{"metric": "demographic_parity_difference", **gate}],
        }
    )
    rng = np.random.default_rng(23)
    sims, passed = 300, 0
    for sim in range(sims):
        stage = fairness_stage(
            _tied_table(rng, base, cand), config, config.gates, seed=sim, resamples=200
        )
        (outcome,) = decide(stage.checks, 0.05, "holm")
        passed += outcome.verdict == "pass"
    rate = passed / sims
    print(f"false pass at the margin through the engine: {rate:.3f} ({sims} datasets)")
    assert rate <= 0.05 + 3 * (0.05 * 0.95 / sims) ** 0.5, rate


def test_one_draw_serves_every_grouping_and_the_count_table() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    a, b = rng.choice(["x", "y", "z"], n), rng.choice(["p", "q"], n)
    y, pb, pc = rng.integers(0, 2, (3, n))
    draw = fairness.shared_draw([a, b, fairness.intersect([a, b])], y, pb, pc, 300, rng)
    coarse = np.bincount(y * 4 + pb * 2 + pc, minlength=8)
    for cells, reps in zip(draw.cells, draw.replicates, strict=True):
        # the point cells are the rows' cells, and every grouping's replicates sum to the
        # SAME coarse replicate (one draw, not one per grouping)
        assert np.array_equal(cells.counts.reshape(-1, 8).sum(axis=0), coarse)
        np.testing.assert_array_equal(reps.reshape(300, -1, 8).sum(axis=1), draw.coarse)
    assert np.array_equal(draw.cells[0].counts, fairness.group_cells(a, y, pb, pc).counts)
    # each coarse cell is Poisson(n_c): mean and variance n_c (Monte-Carlo check)
    mean, var = draw.coarse.mean(axis=0), draw.coarse.var(axis=0, ddof=1)
    se = np.sqrt(coarse / 300)
    assert np.all(np.abs(mean - coarse) < 4 * se)
    assert np.all(np.abs(var / coarse - 1) < 0.4)


def test_fairness_gates_join_the_holm_family(tmp_path: Path) -> None:
    frame, preds = _people(4000, 2)
    base, cand = _write(tmp_path, frame, preds)
    plain = "task: binary\ngates:\n  - {metric: roc_auc, rule: non_inferior, margin: 0.02}\n"
    run_compare(tmp_path, base, cand, plain)
    before = load_record(tmp_path / "record.json").compare
    run_compare(tmp_path, base, cand, FAIR)
    after = load_record(tmp_path / "record.json").compare
    assert before is not None and after is not None
    auc_before = next(g for g in before.gates if g.metric == "roc_auc")
    auc_after = next(g for g in after.gates if g.metric == "roc_auc")
    assert auc_before.p_value == auc_after.p_value  # DeLong: no resampling, same raw p
    family = [g.p_value for g in after.gates if not g.undefined and g.p_value is not None]
    assert len(family) == 7
    assert auc_after.adjusted_p_value is not None and auc_before.adjusted_p_value is not None
    raw = sorted(family)
    rank = raw.index(auc_after.p_value)
    assert auc_after.adjusted_p_value >= min(1.0, (7 - rank) * auc_after.p_value) > 0
    assert auc_after.adjusted_p_value > auc_before.adjusted_p_value
    assert "family of 7" in (auc_after.reason or "") or auc_after.verdict != "pass"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "gates:\n  - {metric: gap:recall, margin: 0.05}\n",
            "needs fairness.groups",
        ),
        (
            "task: regression\nfairness: {groups: [sex]}\n"
            "gates:\n  - {metric: demographic_parity_difference}\n",
            "fairness metric of binary tasks",
        ),
        (
            "fairness: {groups: [sex]}\n"
            "gates:\n  - {metric: gap:recall, rule: absolute, min: 0.1}\n",
            "or 'absolute' with 'max'",
        ),
        (
            "fairness: {groups: [sex, nation]}\n"
            "gates:\n  - {metric: demographic_parity_difference, margin: 0.02}\n",
            "column 'nation' is missing (fairness.groups",
        ),
    ],
    ids=["no-groups", "not-binary", "absolute", "missing-column"],
)
def test_config_and_column_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, message: str
) -> None:
    frame, preds = _people(400, 3)
    base, cand = _write(tmp_path, frame, preds)
    assert run_compare(tmp_path, base, cand, config) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    err = [line for line in lines if not line.startswith("... ")]  # progress lines
    assert len(err) == 1 and message in err[0], err


def test_compare_count_table_metrics_use_the_fairness_draw(tmp_path: Path) -> None:
    """precision / recall / f1 intervals of ``ml-ci compare`` come from the very replicates
    the fairness gates used (one draw), and the record's fairness bounds are the engine's."""
    from ml_ci.compare.engine import binary_metrics
    from ml_ci.compare.inputs import load_pair
    from ml_ci.config import load_config
    from ml_ci.config.compare import is_fairness_metric

    frame, preds = _people(3000, 7)
    base, cand = _write(tmp_path, frame, preds)
    run_compare(tmp_path, base, cand, FAIR)
    with_fair = load_record(tmp_path / "record.json").compare
    config = load_config(tmp_path / "ml-ci.yaml")
    table = load_pair(base, cand, "binary", config.predictions, groups=config.fairness.columns())
    gates = [g for g in config.gates if is_fairness_metric(g.metric)]
    stage = fairness_stage(table, config, gates, seed=0, resamples=2000)
    ours = {s.name: s for s in binary_metrics(table, 0, 2000, 0, cell_reps=stage.draw.coarse)}
    alone = {s.name: s for s in binary_metrics(table, 0, 2000, 0)}
    assert with_fair is not None
    shown = {m.name: m for m in with_fair.metrics if m.slice is None}
    for name in ("precision", "recall", "f1"):
        delta = ours[name].delta
        assert delta is not None
        assert (shown[name].ci_low, shown[name].ci_high) == pytest.approx(delta.interval(0.05))
        other = alone[name].delta
        assert other is not None and other.interval(0.05) != delta.interval(0.05)
    upper = {(r.check.gate.metric, r.check.groups): r.change.upper for r in stage.runs}
    for f in with_fair.fairness:
        assert f.upper == pytest.approx(upper[(f.metric, f.groups)])


def test_many_groups_lower_bound_drops_the_pairing_and_stays_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the planted widening of a recall gap (0.10 -> 0.25) is a clear fail both ways; the
    # unpaired lower bound (used when the pairs would not fit) is the wider one
    frame, preds = _recall_rows(8000, 0.15, 5)
    y = frame["y_true"].to_numpy()
    pb, pc = ((preds[m] >= 0.5).astype(int) for m in ("baseline", "candidate"))
    cells = fairness.group_cells(frame["group"], y, pb, pc)
    boot = fairness.poisson_replicates(cells.counts, 1000, 2)
    args = {"margin": 0.05, "alpha": 0.05, "replicates": boot}
    paired_low, paired_p = fairness.gap_change_lower(cells, "gap:recall", **args)
    monkeypatch.setattr(fairness, "PAIRS_MAX_CELLS", 0)
    low, p = fairness.gap_change_lower(cells, "gap:recall", **args)
    assert paired_low is not None and low is not None and paired_p is not None and p is not None
    assert 0.05 < low < paired_low < 0.15
    assert p < 0.05 and paired_p < 0.05
    # and it never claims a widening where there is none (the kept candidate)
    frame, preds = _recall_rows(8000, 0.0, 5)
    pb, pc = ((preds[m] >= 0.5).astype(int) for m in ("baseline", "candidate"))
    kept = fairness.group_cells(frame["group"], frame["y_true"].to_numpy(), pb, pc)
    boot = fairness.poisson_replicates(kept.counts, 1000, 2)
    low, p = fairness.gap_change_lower(kept, "gap:recall", **{**args, "replicates": boot})
    assert low is not None and low < 0 and p == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("kind", ["text", "number"])
def test_rows_without_a_group_are_an_input_error_like_fairlearns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, kind: str
) -> None:
    """A missing group value is not a group called "nan" or "None" (which would be gated as
    one): like fairlearn's MetricFrame, ml-ci refuses, naming the column and the rows."""
    rng = np.random.default_rng(3)
    n = 400
    y = rng.integers(0, 2, n)
    score = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.2, n), 0, 1).round(3)
    values: list[object] = (
        list(rng.choice(["F", "M"], n)) if kind == "text" else list(rng.choice([1.0, 2.0], n))
    )
    for row in (5, 17, 230):
        values[row] = None
    frame = pd.DataFrame(
        {"id": np.arange(n), "y_true": y, "y_pred": (score >= 0.5).astype(int), "y_score": score}
    )
    frame["sex"] = pd.Series(values, dtype=object if kind == "text" else float)
    with pytest.raises(ValueError, match="missing values"):  # fairlearn's own behaviour
        MetricFrame(
            metrics=selection_rate,
            y_true=y,
            y_pred=frame["y_pred"],
            sensitive_features=frame["sex"],
        )
    paths = [tmp_path / f"{name}{suffix}" for name in ("baseline", "candidate")]
    for path in paths:
        frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    config = "task: binary\nfairness: {groups: [sex], min_size: 10}\ngates:\n"
    config += "  - {metric: demographic_parity_difference, rule: non_inferior, margin: 0.05}\n"
    capsys.readouterr()
    code = run_compare(tmp_path, paths[0], paths[1], config)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("...")]
    assert code == 2 and len(lines) == 1, err
    assert str(paths[1]) in lines[0] and "'sex'" in lines[0] and "3 row(s)" in lines[0]
    assert "fairness.groups" in lines[0] and "Traceback" not in err


def test_the_engine_refuses_missing_group_values_too() -> None:
    y = np.array([0, 1, 0, 1])
    for missing in (np.nan, None):
        groups = np.array(["a", missing, "b", "a"], dtype=object)
        with pytest.raises(ValueError, match="1 row"):
            fairness.group_cells(groups, y, y, y)
        with pytest.raises(ValueError, match="1 row"):
            fairness.shared_draw([groups], y, y, y, 10, np.random.default_rng(0))
    text = fairness.group_cells(np.array(["nan", "None", "a", "a"]), y, y, y)
    assert text.groups == ("None", "a", "nan")  # the words are values like any other
