"""Synthetic predictions tables for the compare tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def binary_scores(
    n: int, seed: int = 0, *, shift: float = 0.0, decimals: int | None = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, baseline score, candidate score): two correlated, imperfect probability models.

    Rounding to ``decimals`` creates ties (real scores have them)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    shared = rng.normal(0, 1, n)
    logit_b = 1.6 * (2 * y - 1) + shared + rng.normal(0, 1, n)
    logit_c = (1.6 + shift) * (2 * y - 1) + shared + rng.normal(0, 1, n)
    sb = 1 / (1 + np.exp(-logit_b))
    sc = 1 / (1 + np.exp(-logit_c))
    if decimals is not None:
        sb, sc = sb.round(decimals), sc.round(decimals)
    return y, sb, sc


def write_binary(
    folder: Path, n: int = 600, seed: int = 0, *, shift: float = 0.0, suffix: str = ".csv"
) -> tuple[Path, Path]:
    """Write baseline.csv / candidate.csv (or .parquet) with a 'segment' slice column."""
    y, sb, sc = binary_scores(n, seed, shift=shift)
    rng = np.random.default_rng(seed + 1)
    segment = np.where(rng.random(n) < 0.5, "small", "large")
    paths = []
    for name, score in (("baseline", sb), ("candidate", sc)):
        frame = pd.DataFrame(
            {
                "id": np.arange(n),
                "y_true": y,
                "y_pred": (score >= 0.5).astype(int),
                "y_score": score,
                "segment": segment,
                "latency_ms": rng.gamma(4.0, 10.0, n),
            }
        )
        path = folder / f"{name}{suffix}"
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def write_yaml(folder: Path, text: str) -> Path:
    path = folder / "ml-ci.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_compare(tmp_path: Path, base: Path, cand: Path, config: str, *extra: str) -> int:
    """``ml-ci compare`` in this process with ``config`` as ml-ci.yaml; the record goes to
    tmp_path/record.json. Returns the exit code."""
    from ml_ci.cli import main

    return main(
        [
            "compare",
            "--baseline",
            str(base),
            "--candidate",
            str(cand),
            "--config",
            str(write_yaml(tmp_path, config)),
            "--output",
            str(tmp_path / "record.json"),
            *extra,
        ]
    )
