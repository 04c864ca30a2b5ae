"""The CBPE estimate of accuracy for rows without outcomes: its statistics by simulation (fixed
seeds), a reference computation, and that it is shown but never alerts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.metrics import accuracy_score

from ml_ci.logs.buckets import own_probability
from ml_ci.monitor.quality import QualityCounts, evaluate_quality, expected_correct

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
VERSION = "v0.2.0"


def _calibrated(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores p ~ U(0, 1), outcomes y ~ Bernoulli(p), predictions p >= 0.5."""
    p = rng.uniform(0, 1, n)
    y = (rng.random(n) < p).astype(float)
    return p, y, (p >= 0.5).astype(float)


def test_expected_correct_equals_sklearns_expected_accuracy() -> None:
    """Reference: a row's outcome is 1 with probability p, so the expected accuracy is sklearn's
    accuracy over both possible outcomes of every row, weighted by their probabilities."""
    rng = np.random.default_rng(11)
    p = rng.uniform(0, 1, 5000)
    pred = (rng.random(5000) < 0.5).astype(float)  # any predictions, not only p >= 0.5
    reference = accuracy_score(
        np.concatenate([np.zeros(5000), np.ones(5000)]),
        np.concatenate([pred, pred]),
        sample_weight=np.concatenate([1 - p, p]),
        normalize=False,
    )
    assert expected_correct(p, pred) == pytest.approx(reference, rel=1e-12)
    np.testing.assert_allclose(own_probability(p, pred).sum(), reference, rtol=1e-12)


def _errors(seed: int, runs: int, n: int, sharpen: float) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the estimate's error on the unlabelled half (E/u minus their true accuracy)
    and its Monte-Carlo standard deviation ``sqrt(sum q(1-q)) / u`` (q: true P(own right)).
    ``sharpen`` != 1 logs a miscalibrated score ``sigmoid(sharpen * logit(p))``."""
    rng = np.random.default_rng(seed)
    errors, sds = np.empty(runs), np.empty(runs)
    for run in range(runs):
        p, y, pred = _calibrated(rng, n)
        logit = np.log(p) - np.log1p(-p)
        score = 1 / (1 + np.exp(-sharpen * logit))
        missing = rng.random(n) < 0.5  # outcomes missing at random for half the rows
        u = int(missing.sum())
        estimate = expected_correct(score[missing], pred[missing]) / u
        truth = float((pred[missing] == y[missing]).mean())
        q = own_probability(p[missing], pred[missing])
        errors[run] = estimate - truth
        sds[run] = np.sqrt((q * (1 - q)).sum()) / u
    return errors, sds


def test_calibrated_scores_estimate_the_unlabelled_accuracy_within_monte_carlo_error() -> None:
    # q = max(p, 1 - p) ~ U(0.5, 1), so E[q(1-q)] = 1/6 and with u ~ 1000 unlabelled rows a
    # run's error has sd sqrt(1000 / 6) / 1000 ~ 0.0129; the mean of 400 runs has sd ~ 0.00065
    errors, sds = _errors(seed=1, runs=400, n=2000, sharpen=1.0)
    assert float(sds.mean()) == pytest.approx(np.sqrt(1 / 6 / 1000), rel=0.05)
    se_mean = float(np.sqrt((sds**2).sum()) / len(errors))
    assert abs(errors.mean()) < 3 * se_mean  # unbiased
    # and the error is as wide as the arithmetic says: ~5 % of runs beyond 1.96 sd
    beyond = float((np.abs(errors / sds) > 1.96).mean())
    assert abs(beyond - 0.05) < 3 * np.sqrt(0.05 * 0.95 / len(errors))


@pytest.mark.parametrize(("sharpen", "sign"), [(3.0, 1), (1 / 3, -1)])
def test_miscalibrated_scores_bias_the_estimate(sharpen: float, sign: int) -> None:
    """Overconfident scores (sharpened) overstate accuracy, underconfident ones understate it:
    the estimate is only as good as the calibration on the unlabelled rows."""
    errors, sds = _errors(seed=2, runs=100, n=2000, sharpen=sharpen)
    se_mean = float(np.sqrt((sds**2).sum()) / len(errors))
    assert sign * errors.mean() > 10 * se_mean
    assert sign * errors.mean() > 0.03


def test_window_estimate_is_measured_plus_expected_over_the_rows_it_covers() -> None:
    counts = QualityCounts(
        total=1000, labelled=400, correct=360, expected_correct_unlabelled=450.0,
        unlabelled_scored=500,
    )  # fmt: skip
    status = evaluate_quality(counts, minimum=0.8, alpha=0.05, min_coverage=0.2)
    assert status.estimate == pytest.approx((360 + 450) / 900)
    assert (status.estimate_rows, status.estimated_rows) == (900, 500)


# -- through the log layer and the real command ---------------------------------------------


def write_scored_logs(
    path: Path, *, n: int, seed: int, labelled: float, own_right: float | None = None
) -> tuple[Path, float]:
    """One day of requests up to NOW with calibrated scores (or, with ``own_right``, scores that
    say every unlabelled prediction is right with that probability while labelled ones are
    right 95 % of the time). Returns the path and the true accuracy of all rows."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(NOW - 86_400, NOW, n))
    p, y, pred = _calibrated(rng, n)
    known = rng.random(n) < labelled
    if own_right is not None:
        right = rng.random(n) < 0.95
        y = np.where(right, pred, 1 - pred)
        p = np.where(pred == 1, own_right, 1 - own_right)
    table = pa.table(
        {
            "timestamp": pa.array((times * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
            "model_version": pa.array([VERSION] * n),
            "latency_ms": rng.uniform(20, 150, n),
            "error": np.zeros(n, dtype=np.int8),
            "y_pred": pred,
            "y_score": p,
            "y_true": pa.array(np.where(known, y, 0), mask=~known),
        }
    )
    pq.write_table(table, path)
    return path, float((pred == y).mean())


def _config(tmp_path: Path, minimum: float) -> Path:
    path = tmp_path / "ml-ci.yaml"
    monitor = {
        "window": "1d",
        "recent": "6h",
        "min_requests": 50,
        "objectives": [{"metric": "accuracy", "min": minimum}],
    }
    path.write_text(yaml.safe_dump({"model": {"name": "churn"}, "monitor": monitor}))
    return path


def _monitor(tmp_path: Path, logs: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(logs), "--version", VERSION,
         "--now", str(NOW), *extra],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip


def test_the_estimate_through_the_files_source_matches_the_true_accuracy(tmp_path: Path) -> None:
    # 20,000 rows, half without outcome: the estimate's error is the unlabelled half's, scaled
    # by u / n = 1/2: sd ~ sqrt(10,000 / 6) / 20,000 ~ 0.0020, so 4 sd = 0.0082
    logs, truth = write_scored_logs(tmp_path / "logs.parquet", n=20_000, seed=4, labelled=0.5)
    _config(tmp_path, 0.7)
    done = _monitor(tmp_path, logs, "--json")
    assert done.returncode == 0, done.stderr
    accuracy = json.loads(done.stdout)["objectives"][0]
    assert accuracy["estimate_rows"] == 20_000
    assert accuracy["estimated_rows"] == pytest.approx(10_000, rel=0.03)
    assert abs(accuracy["estimate"] - truth) < 4 * np.sqrt(10_000 / 6) / 20_000
    recent = accuracy["windows"]["recent"]
    assert 0 < recent["estimated_rows"] < accuracy["estimated_rows"]


def test_a_terrible_estimate_with_good_measured_accuracy_raises_no_alert(tmp_path: Path) -> None:
    logs, _ = write_scored_logs(
        tmp_path / "logs.parquet", n=20_000, seed=5, labelled=0.5, own_right=0.05
    )
    _config(tmp_path, 0.88)
    done = _monitor(tmp_path, logs, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    accuracy = result["objectives"][0]
    assert accuracy["value"] > 0.93 and accuracy["upper"] > 0.88
    assert accuracy["estimate"] < 0.6  # ~ (0.95 + 0.05) / 2
    for view in accuracy["windows"].values():
        assert view["estimate"] < 0.6 and view["alert"] == "none"
    assert (accuracy["alert"], accuracy["state"], result["alert"]) == ("none", "ok", "none")
    shown = _monitor(tmp_path, logs)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "accuracy" in x)
    assert f"estimate {accuracy['estimate']:.4g} (CBPE, " in line
    assert f"{accuracy['estimated_rows']} rows without outcome" in line


def test_the_incident_shows_the_estimate_beside_the_measured_value(tmp_path: Path) -> None:
    from ml_ci.config import load_config
    from ml_ci.monitor.apply import incident_body
    from ml_ci.monitor.engine import MonitorSettings, execute

    logs, _ = write_scored_logs(tmp_path / "logs.parquet", n=20_000, seed=6, labelled=0.5)
    config = load_config(_config(tmp_path, 0.95))  # calibrated U(0, 1) scores: ~0.75, breached
    settings = MonitorSettings(config, tmp_path, float(NOW), logs=str(logs), version=VERSION)
    result = execute(settings)
    item = result.objectives[0]
    assert item.alert == "ticket"
    body = incident_body(result, item, "docs/runbooks/degraded-accuracy.md", None)
    window = item.payload["windows"]["window"]
    assert f"| window: value | {window['value']:.4g} |" in body
    assert (
        f"| window: estimate with rows without outcome (CBPE, calibrated scores) | "
        f"{window['estimate']:.4g} |" in body
    )
    assert f"| window: rows estimated from scores | {window['estimated_rows']} |" in body


def test_the_dashboard_shows_the_estimate_labelled_as_one() -> None:

    from ml_ci.config.monitor import Objective
    from ml_ci.dashboard.engine import Dashboard, ObjectiveView
    from ml_ci.dashboard.render import render_html, render_summary
    from ml_ci.logs.buckets import Stats
    from ml_ci.monitor.engine import quality_objective
    from ml_ci.report.render import fmt_num

    stats = Stats.zeros(12)
    stats.requests[:] = 100
    stats.labelled[:] = 50
    stats.correct[:] = 45
    stats.unlabelled_scored[:] = 50
    stats.expected_correct[:] = 10  # a terrible estimate: 20 % of the unlabelled rows right
    done = quality_objective(
        Objective(metric="accuracy", min=0.8), stats, recent_buckets=6, alpha=0.05,
        min_coverage=0.2, min_requests=50, promised=None,
    )  # fmt: skip
    assert done.alert == "none" and done.payload["estimate"] == pytest.approx(660 / 1200)
    board = Dashboard(
        generated="2026-01-01T00:00:00Z", models=[], production="v1",
        window={"start": "2025-12-31T23:00:00Z", "end": "2026-01-01T00:00:00Z"},
        objectives=[ObjectiveView("accuracy", done.alert, done.payload)],
    )  # fmt: skip
    shown = fmt_num(done.payload["estimate"])
    html = render_html(board, "https://github.com")
    assert f"(estimate {shown}: CBPE, 600 rows without outcome)" in html
    assert f"(estimate {shown}, CBPE)" in render_summary(board)
    assert board.to_json()["objectives"][0]["estimate"] == done.payload["estimate"]
