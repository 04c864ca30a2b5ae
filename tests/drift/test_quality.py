"""Every data quality check: a table that trips it (positive) and one that does not (negative)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml_ci.config.drift import DriftConfig
from ml_ci.drift.engine import analyse
from ml_ci.record.drift import DriftSection, QualityFinding
from tests.drift.helpers import frames


def _found(section: DriftSection, check: str) -> list[QualityFinding]:
    return [f for f in section.quality if f.check == check and f.column is not None]


def _passed(section: DriftSection, check: str) -> bool:
    """The check ran and found nothing (its one ``pass`` row with no column)."""
    return any(
        f.check == check and f.column is None and f.verdict == "pass" for f in section.quality
    )


def test_schema_missing_extra_and_dtype_change() -> None:
    reference, current = frames(n=500)
    current = current.drop(columns=["city"]).assign(extra=1.0, age=current["age"].astype(float))
    section = analyse(reference, current, DriftConfig())
    found = {(f.column, f.verdict) for f in _found(section, "schema")}
    assert found == {("city", "fail"), ("extra", "warn"), ("age", "warn")}
    assert all(f.rows == 500 for f in _found(section, "schema"))
    assert section.verdict == "significant"  # a missing column fails


def test_schema_negative() -> None:
    reference, current = frames(n=500)
    section = analyse(reference, current, DriftConfig())
    assert _found(section, "schema") == []
    assert _passed(section, "schema")


def test_missing_values_above_the_limit_fail_and_below_pass_with_a_count() -> None:
    reference, current = frames(n=1000)
    current.loc[:199, "score"] = np.nan  # 20 %
    current.loc[:29, "city"] = None  # 3 %
    section = analyse(reference, current, DriftConfig(max_missing_share=0.1))
    found = {f.column: (f.verdict, f.rows) for f in _found(section, "missing_values")}
    assert found == {"score": ("fail", 200), "city": ("pass", 30)}
    assert section.verdict == "significant"


def test_missing_values_negative() -> None:
    reference, current = frames(n=1000)
    section = analyse(reference, current, DriftConfig())
    assert _found(section, "missing_values") == []
    assert _passed(section, "missing_values")


def _within_reference_range(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    for name in ("score", "income", "age"):
        current[name] = current[name].clip(reference[name].min(), reference[name].max())


def test_out_of_range() -> None:
    reference, current = frames(n=2000)
    _within_reference_range(reference, current)
    current.loc[:99, "score"] = 100.0  # 5 % far above the reference maximum
    current.loc[:4, "age"] = -5  # 0.25 % below: reported, within tolerance
    section = analyse(reference, current, DriftConfig())
    found = {f.column: (f.verdict, f.rows) for f in _found(section, "out_of_range")}
    assert found == {"score": ("fail", 100), "age": ("pass", 5)}


def test_out_of_range_negative() -> None:
    reference, current = frames(n=2000)
    _within_reference_range(reference, current)
    section = analyse(reference, current, DriftConfig())
    assert _found(section, "out_of_range") == []
    assert _passed(section, "out_of_range")


def test_unseen_categories() -> None:
    reference, current = frames(n=1000)
    current.loc[:49, "city"] = "brest"  # 5 %
    section = analyse(reference, current, DriftConfig())
    [finding] = _found(section, "unseen_categories")
    assert (finding.column, finding.rows, finding.verdict) == ("city", 50, "fail")
    assert "'brest'" in (finding.detail or "")


def test_unseen_categories_negative() -> None:
    reference, current = frames(n=1000)
    section = analyse(reference, current, DriftConfig())
    assert _found(section, "unseen_categories") == []
    assert _passed(section, "unseen_categories")


def test_duplicate_ids() -> None:
    reference, current = frames(n=300)
    current.loc[10:12, "id"] = 5  # rows 10, 11, 12 repeat the id of row 5
    section = analyse(reference, current, DriftConfig(id_column="id"))
    [finding] = _found(section, "duplicate_ids")
    assert (finding.column, finding.rows, finding.verdict) == ("id", 3, "fail")
    assert "id" not in [c.column for c in section.columns]  # ids are never checked for drift


def test_duplicate_ids_negative() -> None:
    reference, current = frames(n=300)
    section = analyse(reference, current, DriftConfig(id_column="id"))
    assert _found(section, "duplicate_ids") == []
    assert _passed(section, "duplicate_ids")
    # without an id column the check does not run at all
    assert not any(
        f.check == "duplicate_ids" for f in analyse(reference, current, DriftConfig()).quality
    )


def test_constant_column() -> None:
    reference, current = frames(n=500)
    current["score"] = 0.5
    reference["unit"] = "eur"
    current["unit"] = "eur"
    section = analyse(reference, current, DriftConfig())
    found = {f.column: (f.verdict, f.rows) for f in _found(section, "constant")}
    assert found == {"score": ("fail", 500), "unit": ("warn", 500)}


def test_constant_negative() -> None:
    reference, current = frames(n=500)
    section = analyse(reference, current, DriftConfig())
    assert _found(section, "constant") == []
    assert _passed(section, "constant")


def test_quality_warnings_alone_do_not_change_the_verdict() -> None:
    reference = pd.DataFrame({"a": np.arange(100.0)})
    current = pd.DataFrame({"a": np.arange(100.0), "b": 1})
    section = analyse(reference, current, DriftConfig())
    assert [f.verdict for f in _found(section, "schema")] == ["warn"]
    assert section.verdict == "pass"


def _with_emails(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    reference, current = frames(n=n, seed=seed)
    reference["email"] = [f"user{i}@example.com" for i in range(n)]
    current["email"] = [f"user{i + n}@example.com" for i in range(n)]  # all new, as ids are
    return reference, current


def test_identifier_like_text_is_not_compared() -> None:
    reference, current = _with_emails(1000, seed=1)
    section = analyse(reference, current, DriftConfig())
    [finding] = _found(section, "identifier_like")
    assert (finding.column, finding.rows, finding.verdict) == ("email", 1000, "warn")
    assert "1000 distinct values" in (finding.detail or "")
    assert "email" not in [c.column for c in section.columns]
    assert _found(section, "unseen_categories") == []  # not every value reported as unseen
    assert section.verdict == "pass"


def test_identifier_like_negative_and_overrides() -> None:
    # 30 cities in 3,000 rows is a category, not an identifier
    rng = np.random.default_rng(2)
    reference, current = frames(n=3000, seed=2)
    reference["city"] = rng.choice([f"c{i}" for i in range(30)], 3000)
    current["city"] = rng.choice([f"c{i}" for i in range(30)], 3000)
    section = analyse(reference, current, DriftConfig())
    assert _found(section, "identifier_like") == [] and _passed(section, "identifier_like")
    assert "city" in [c.column for c in section.columns]
    # naming the column in drift.methods, or allowing all-distinct columns, compares it
    reference, current = _with_emails(1000, seed=3)
    for config in (
        DriftConfig.model_validate({"methods": {"email": "jensenshannon"}}),
        DriftConfig(max_unique_share=1.0),
    ):
        section = analyse(reference, current, config)
        assert "email" in [c.column for c in section.columns]
        # every e-mail occurs once: shuffled between the tables, all-new is what chance gives
        [unseen] = _found(section, "unseen_categories")
        assert (unseen.column, unseen.verdict, unseen.p_value) == ("email", "pass", 1.0)
