"""``analyse(..., current_faults="report")``: a broken current column is a failed finding;
by default (``ml-ci drift``) it stays an input error, and the reference's problems always are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_ci.config.drift import DriftConfig
from ml_ci.drift.engine import analyse
from ml_ci.errors import InputError


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.standard_normal(500), "b": rng.standard_normal(500)})
    cur = pd.DataFrame({"a": [f"{v:.2f}" for v in rng.standard_normal(500)]})
    cur["b"] = rng.standard_normal(500) + 2.0
    return ref, cur


def test_a_current_column_of_another_type_is_a_failed_schema_finding() -> None:
    ref, cur = _tables()
    with pytest.raises(InputError, match=r"'a' is number .* but text"):
        analyse(ref, cur, DriftConfig())  # ml-ci drift: exit 2, as documented
    section = analyse(ref, cur, DriftConfig(), current_faults="report")
    assert section.verdict == "significant"
    assert [c.column for c in section.columns] == ["b"] and section.columns[0].drifted
    schema = [f for f in section.quality if f.check == "schema"]
    assert [(f.column, f.verdict) for f in schema] == [("a", "fail")]  # no extra dtype warning
    assert schema[0].detail is not None and "number in the reference but text" in schema[0].detail


def test_an_all_missing_reference_column_still_raises() -> None:
    ref, cur = _tables()
    ref["a"], cur["a"] = np.nan, 1.0
    with pytest.raises(InputError, match="no values in reference"):
        analyse(ref, cur, DriftConfig(), current_faults="report")
    ref, cur = _tables()
    cur["a"] = np.nan
    section = analyse(ref, cur, DriftConfig(), current_faults="report")
    failed = [f for f in section.quality if f.verdict == "fail" and f.column == "a"]
    assert [f.check for f in failed] == ["missing_values"]
    assert section.verdict == "significant"
