"""Small tables for the drift tests, and an in-process ``ml-ci`` runner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml_ci.cli import main


def frames(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current with the same distributions: numeric, int, categorical, binary."""
    rng = np.random.default_rng(seed)

    def one() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": np.arange(n),
                "income": rng.lognormal(10, 0.5, n),
                "age": rng.integers(18, 90, n),
                "score": rng.normal(0, 1, n),
                "city": rng.choice(["paris", "lyon", "nice", "lille"], n, p=[0.4, 0.3, 0.2, 0.1]),
                "churned": rng.random(n) < 0.3,
            }
        )

    return one(), one()


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> Run:
    """``ml-ci args`` in this process (the real CLI entry point and exit-code mapping)."""
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path
