"""``ml-ci compare`` end to end: exit codes, the record section, --json contract, options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.record import EvaluationRecord, load_record, save_record
from tests.compare.helpers import run_compare, write_binary

GATES = """
task: binary
gates:
  - {metric: roc_auc, rule: non_inferior, margin: 0.02}
  - {metric: log_loss, rule: non_inferior, margin: 0.05}
"""


def _run(
    tmp_path: Path, config: str, *extra: str, base: Path | None = None, cand: Path | None = None
) -> int:
    if base is None or cand is None:
        base, cand = write_binary(tmp_path, n=800, shift=0.4)
    return run_compare(tmp_path, base, cand, config, *extra)


def test_better_candidate_passes_and_writes_its_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_record(tmp_path / "record.json", EvaluationRecord(model="kept"))
    assert _run(tmp_path, GATES, "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "pass"
    metric_keys = {
        "name",
        "baseline",
        "candidate",
        "delta",
        "ci_low",
        "ci_high",
        "p_value",
        "method",
        "n",
    }
    gate_keys = {"metric", "rule", "margin", "slice", "verdict", "p_value", "adjusted_p_value"}
    assert all(metric_keys <= set(m) for m in payload["metrics"])
    assert all(gate_keys <= set(g) for g in payload["gates"])
    names = [m["name"] for m in payload["metrics"]]
    assert names == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier",
    ]
    assert {m["method"].split(" ")[0] for m in payload["metrics"]} >= {"exact", "DeLong", "paired"}
    record = load_record(tmp_path / "record.json")
    assert record.model == "kept"  # other parts of the record are untouched
    assert record.compare is not None
    assert record.compare.model_dump(mode="json") == payload


def test_worse_candidate_fails_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = write_binary(tmp_path, n=800, shift=-0.8)
    assert _run(tmp_path, GATES, base=base, cand=cand) == 1
    out, err = capsys.readouterr()
    assert "FAIL roc_auc non_inferior" in out
    assert "verdict fail" in err.splitlines()[-1]


@pytest.mark.parametrize(("policy", "code"), [("fail", 1), ("warn", 0), ("pass", 0)])
def test_inconclusive_policy_decides_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str, code: int
) -> None:
    base, cand = write_binary(tmp_path, n=120, shift=0.0)
    config = f"task: binary\ncompare: {{inconclusive: {policy}}}\ngates:\n  - {{metric: roc_auc, rule: superior, margin: 0.0}}\n"
    assert _run(tmp_path, config, base=base, cand=cand) == code
    out, err = capsys.readouterr()
    assert "INCONCLUSIVE roc_auc superior" in out
    assert ("is 'warn'" in err) == (policy == "warn")


def test_same_seed_same_intervals_other_seed_other_intervals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = []
    for seed in ("7", "7", "8"):
        assert _run(tmp_path, GATES, "--json", "--seed", seed) == 0
        payload = json.loads(capsys.readouterr().out)
        runs.append([(m["ci_low"], m["ci_high"]) for m in payload["metrics"] if m["name"] == "f1"])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_parquet_tables_slices_and_latency_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = write_binary(tmp_path, n=600, shift=0.4, suffix=".parquet")
    config = """
task: binary
predictions: {latency: latency_ms}
slices: {columns: [segment], min_size: 400}
gates:
  - {metric: roc_auc, margin: 0.02}
  - {metric: latency_p95_ms, rule: absolute, max: 200}
"""
    assert _run(tmp_path, config, "--json", base=base, cand=cand) == 0
    payload = json.loads(capsys.readouterr().out)
    slices = {g["slice"] for g in payload["gates"]}
    assert slices == {None, "segment=small", "segment=large"}
    small = [g for g in payload["gates"] if g["slice"] is not None]
    assert all("below min_size" in g["reason"] for g in small)
    latency = [
        m for m in payload["metrics"] if m["name"] == "latency_p95_ms" and m["slice"] is None
    ]
    assert latency[0]["method"].startswith("column")
    assert latency[0]["baseline"] is not None and latency[0]["candidate"] is not None
    # a tight latency SLO fails (the per-row p95 of gamma(4, 10) is ~ 78 ms)
    tight = config.replace("max: 200", "max: 50")
    assert _run(tmp_path, tight, base=base, cand=cand) == 1


def test_gate_on_a_latency_metric_without_data_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = "task: binary\ngates:\n  - {metric: latency_p95_ms, rule: absolute, max: 200}\n"
    assert _run(tmp_path, config) == 2
    assert "latency_p95_ms has no data" in capsys.readouterr().err


def test_latency_gate_must_be_absolute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = "task: binary\ngates:\n  - {metric: latency_p95_ms, margin: 5}\n"
    assert _run(tmp_path, config) == 2
    assert "latency gates use rule 'absolute'" in capsys.readouterr().err


def test_regression_task_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    y = rng.normal(0, 1, 500)
    for name, noise in (("b", 0.5), ("c", 0.3)):
        pd.DataFrame(
            {"id": range(500), "y_true": y, "y_pred": y + rng.normal(0, noise, 500)}
        ).to_csv(tmp_path / f"{name}.csv", index=False)
    config = "task: regression\ngates:\n  - {metric: rmse, rule: superior, margin: 0.1}\n  - {metric: r2, margin: 0.05, relative: true}\n"
    code = _run(tmp_path, config, "--json", base=tmp_path / "b.csv", cand=tmp_path / "c.csv")
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload["gates"]
    assert [m["name"] for m in payload["metrics"]] == ["mae", "rmse", "r2"]


def test_multiclass_task_end_to_end_with_text_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.metrics import f1_score, log_loss

    rng = np.random.default_rng(4)
    classes = np.array(["cat", "dog", "eel"])
    y = rng.integers(0, 3, 600)
    for name, boost in (("b", 1.0), ("c", 2.0)):
        logits = rng.normal(0, 1, (600, 3))
        logits[np.arange(600), y] += boost
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        frame = pd.DataFrame(
            {"id": range(600), "y_true": classes[y], "y_pred": classes[proba.argmax(axis=1)]}
        )
        for k, label in enumerate(classes):
            frame[f"y_score_{label}"] = proba[:, k]
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    config = "task: multiclass\ngates:\n  - {metric: f1_macro, rule: superior, margin: 0.0}\n"
    code = _run(tmp_path, config, "--json", base=tmp_path / "b.csv", cand=tmp_path / "c.csv")
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload["gates"]
    cand = pd.read_csv(tmp_path / "c.csv")
    got = {m["name"]: m for m in payload["metrics"]}
    assert got["f1_macro"]["candidate"] == pytest.approx(
        f1_score(cand["y_true"], cand["y_pred"], average="macro"), rel=1e-12
    )
    assert got["log_loss"]["candidate"] == pytest.approx(
        log_loss(
            cand["y_true"], cand[[f"y_score_{c}" for c in classes]].to_numpy(), labels=list(classes)
        ),
        rel=1e-9,
    )


def test_a_small_slice_is_reported_but_does_not_decide_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    base, cand = write_binary(tmp_path, n=800, shift=0.4)
    for path in (base, cand):
        frame = pd.read_csv(path)
        frame.loc[:11, "segment"] = "tiny"  # 12 rows
        frame.to_csv(path, index=False)
    config = GATES + "slices: {columns: [segment], min_size: 50}\n"
    assert _run(tmp_path, config, "--json", base=base, cand=cand) == 0
    payload = json.loads(capsys.readouterr().out)
    tiny = [g for g in payload["gates"] if g["slice"] == "segment=tiny"]
    assert len(tiny) == 2
    assert all("below min_size (n=12)" in g["reason"] for g in tiny)
    assert any(g["verdict"] == "inconclusive" for g in tiny)
    assert payload["verdict"] == "pass"


def test_a_one_class_slice_leaves_roc_auc_undefined_and_out_of_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A slice at or above min_size holding only positives: ROC AUC is undefined there, the
    gate says so and does not make a candidate that passes everywhere else inconclusive."""
    import pandas as pd

    base, cand = write_binary(tmp_path, n=1200, shift=0.6)
    for path in (base, cand):
        frame = pd.read_csv(path)
        frame["segment"] = "mixed"
        frame.loc[frame.index[frame["y_true"] == 1][:250], "segment"] = "positives"
        frame.to_csv(path, index=False)
    config = "task: binary\ngates:\n  - {metric: roc_auc, margin: 0.02}\nslices: {columns: [segment], min_size: 200}\n"
    assert _run(tmp_path, config, "--json", base=base, cand=cand) == 0
    payload = json.loads(capsys.readouterr().out)
    gate = next(g for g in payload["gates"] if g["slice"] == "segment=positives")
    assert gate["undefined"] is True
    assert "undefined" in gate["reason"] and "one class" in gate["reason"]
    assert payload["verdict"] == "pass"
    metric = next(
        m
        for m in payload["metrics"]
        if m["name"] == "roc_auc" and m["slice"] == "segment=positives"
    )
    assert metric["method"].startswith("undefined")


def _underconfident(tmp_path: Path) -> tuple[Path, Path]:
    """Candidate = baseline pulled towards 0.5: same ranking and y_pred (so the same
    accuracy), clearly worse log loss and Brier."""
    import pandas as pd

    base, _ = write_binary(tmp_path, n=1500, shift=0.0)
    frame = pd.read_csv(base)
    frame["y_score"] = 0.5 + (frame["y_score"] - 0.5) * 0.3
    cand = tmp_path / "candidate.csv"
    frame.to_csv(cand, index=False)
    return base, cand


def test_every_metric_is_reported_and_an_ungated_regression_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = _underconfident(tmp_path)
    config = "task: binary\ngates:\n  - {metric: accuracy, margin: 0.02}\n"
    assert _run(tmp_path, config, "--json", base=base, cand=cand) == 0  # a warning only
    out, err = capsys.readouterr()
    payload = json.loads(out)
    metrics = {m["name"]: m for m in payload["metrics"] if m["slice"] is None}
    assert metrics["accuracy"]["gated"] is True and metrics["accuracy"]["worse"] is False
    assert metrics["accuracy"]["adjusted_p_value"] is None  # its gate carries its own
    ungated = [m for m in metrics.values() if not m["gated"]]
    assert {m["name"] for m in ungated} == set(metrics) - {"accuracy"}
    assert metrics["log_loss"]["worse"] is True and metrics["log_loss"]["delta"] > 0
    # Holm across the ungated overall metrics with a two-sided p-value (statsmodels)
    from statsmodels.stats.multitest import multipletests

    family = [m for m in ungated if m["p_value"] is not None]
    expected = multipletests([m["p_value"] for m in family], method="holm")[1]
    assert [m["adjusted_p_value"] for m in family] == pytest.approx(list(expected), rel=1e-12)
    assert "log_loss is significantly worse" in err
    # the human table names both p-values and explains them
    _run(tmp_path, config, base=base, cand=cand)
    out = capsys.readouterr().out
    assert "p (difference)" in out.splitlines()[0]
    assert "gate p" in out and "legend" in out


def test_the_summary_says_which_gates_were_not_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    base, cand = write_binary(tmp_path, n=800, shift=0.6)
    for path in (base, cand):
        frame = pd.read_csv(path)
        frame.loc[:11, "segment"] = "tiny"
        frame.to_csv(path, index=False)
    config = "task: binary\ngates:\n  - {metric: roc_auc, margin: 0.02}\nslices: {columns: [segment], min_size: 50}\n"
    assert _run(tmp_path, config, base=base, cand=cand) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("verdict pass (3 pass; 1 not counted: slice below min_size")
