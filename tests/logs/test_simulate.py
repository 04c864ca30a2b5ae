"""The shared log generator: its scores are calibrated, so CBPE has something true to find."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from ml_ci.logs.simulate import Profile, calibrated_confidence, simulate_logs


@pytest.mark.parametrize("accuracy", [0.5, 0.6, 0.75, 0.9, 0.95, 1.0])
def test_confidence_has_the_profiles_accuracy_as_its_mean(accuracy: float) -> None:
    u = np.random.default_rng(0).random(400_000)
    c = calibrated_confidence(np.full(u.size, accuracy), u)
    assert ((c >= 0.5) & (c <= 1.0)).all()
    # E[c] = 0.5 + 0.5 / (k + 1); sd of c <= 0.5, so 4 standard errors <= 4 * 0.5 / sqrt(n)
    assert c.mean() == pytest.approx(accuracy, abs=4 * 0.5 / np.sqrt(u.size))


def test_simulated_scores_are_calibrated_and_the_accuracy_is_the_profiles(tmp_path: Path) -> None:
    path = simulate_logs(
        tmp_path / "logs.parquet",
        start=0.0,
        duration=86_400,
        requests=200_000,
        canary=("v2", Profile(accuracy=0.7)),
        production=("v1", Profile(accuracy=0.9)),
        traffic=0.5,
        seed=3,
    )
    table = pq.read_table(path).to_pandas()
    for version, accuracy in (("v1", 0.9), ("v2", 0.7)):
        rows = table[table["model_version"] == version]
        right = (rows["y_pred"] == rows["y_true"]).to_numpy()
        own = np.where(rows["y_pred"] == 1, rows["y_score"], 1 - rows["y_score"]).astype(float)
        n = len(rows)
        assert right.mean() == pytest.approx(accuracy, abs=4 * np.sqrt(0.25 / n))
        # reliability: in each confidence decile the share right equals the mean confidence
        edges = np.quantile(own, np.linspace(0, 1, 11))
        index = np.clip(np.searchsorted(edges, own, side="right") - 1, 0, 9)
        for b in range(10):
            inside = index == b
            if inside.sum() < 1_000:
                continue
            error = 4 * np.sqrt(0.25 / inside.sum())
            assert right[inside].mean() == pytest.approx(own[inside].mean(), abs=error), (
                version,
                b,
            )
