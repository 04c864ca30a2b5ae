"""The engine: method choice, grading, thresholds, verdicts, on real tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, wasserstein_distance

from ml_ci.config.drift import METHOD_THRESHOLDS, DriftConfig
from ml_ci.drift.engine import analyse, grade
from ml_ci.errors import ConfigError, InputError
from tests.drift.helpers import frames


def _column(section, name):  # type: ignore[no-untyped-def]
    return next(c for c in section.columns if c.column == name)


def test_unchanged_tables_pass_with_the_default_methods() -> None:
    reference, current = frames()
    section = analyse(reference, current, DriftConfig(id_column="id"))
    methods = {c.column: (c.kind, c.method) for c in section.columns}
    assert methods == {
        "income": ("numeric", "wasserstein"),
        "age": ("numeric", "wasserstein"),
        "score": ("numeric", "wasserstein"),
        "city": ("categorical", "jensenshannon"),
        "churned": ("binary", "proportion"),
    }
    assert not any(c.drifted for c in section.columns)
    assert section.share_drifted == 0.0
    assert section.verdict == "pass"


@pytest.mark.parametrize(
    ("column", "change"),
    [
        ("score", lambda s: s + 0.5),
        ("income", lambda s: s * 1.5),
        ("age", lambda s: s + 10),
        ("city", lambda s: s.replace({"lille": "paris"})),
        ("churned", lambda s: s | (np.arange(len(s)) % 3 == 0)),
    ],
)
def test_a_planted_shift_in_one_column_is_flagged_and_only_there(column, change) -> None:  # type: ignore[no-untyped-def]
    reference, current = frames()
    current[column] = change(current[column])
    section = analyse(reference, current, DriftConfig(id_column="id"))
    flagged = [c.column for c in section.columns if c.drifted]
    assert flagged == [column]
    assert section.share_drifted == pytest.approx(1 / 5)
    assert section.verdict in ("retrain", "significant")


def test_values_agree_with_scipy_on_numeric_columns() -> None:
    reference, current = frames()
    current["score"] = current["score"] * 1.3 + 0.1
    section = analyse(reference, current, DriftConfig())
    score = _column(section, "score")
    expected = wasserstein_distance(reference["score"], current["score"]) / np.std(
        reference["score"]
    )
    assert score.value == pytest.approx(expected, rel=1e-9)
    ks = ks_2samp(reference["score"], current["score"])
    assert score.statistics["ks"] == pytest.approx(ks.statistic)
    assert score.p_value == pytest.approx(ks.pvalue)  # the KS test backs the Wasserstein size
    # the integer column goes through the counting sort: same answer as scipy
    age = _column(section, "age")
    assert age.statistics["ks"] == pytest.approx(
        ks_2samp(reference["age"], current["age"]).statistic
    )
    assert age.value == pytest.approx(
        wasserstein_distance(reference["age"], current["age"]) / np.std(reference["age"])
    )


def test_levels_follow_the_method_thresholds() -> None:
    reference, current = frames(n=20_000)
    current["score"] = current["score"] + 0.15  # between 0.1 and 0.25 reference sds
    current["income"] = current["income"] * 2.0  # far beyond
    section = analyse(reference, current, DriftConfig())
    score, income = _column(section, "score"), _column(section, "income")
    assert (score.threshold, score.significant_threshold) == METHOD_THRESHOLDS["wasserstein"]
    assert score.level == "retrain" and score.drifted
    assert income.level == "significant"
    assert section.verdict == "significant"


def test_retrain_verdict_and_share() -> None:
    reference, current = frames(n=20_000)
    current["score"] = current["score"] + 0.15
    assert analyse(reference, current, DriftConfig()).verdict == "retrain"
    # one drifted column of five (20 %) is below a 50 % share: the dataset passes
    assert analyse(reference, current, DriftConfig(share=0.5)).verdict == "pass"


def test_thresholds_config_applies_to_all_methods_and_method_thresholds_win() -> None:
    reference, current = frames(n=20_000)
    current["score"] = current["score"] + 0.15
    loose = DriftConfig(thresholds={"retrain": 0.5, "significant": 0.9})  # type: ignore[arg-type]
    section = analyse(reference, current, loose)
    assert {c.threshold for c in section.columns} == {0.5}
    assert section.verdict == "pass"
    strict = DriftConfig(
        thresholds={"retrain": 0.5, "significant": 0.9},  # type: ignore[arg-type]
        method_thresholds={"wasserstein": {"retrain": 0.05, "significant": 0.1}},  # type: ignore[dict-item]
    )
    section = analyse(reference, current, strict)
    assert _column(section, "score").level == "significant"
    assert _column(section, "city").threshold == 0.5


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="significant"):
        DriftConfig(thresholds={"retrain": 0.3, "significant": 0.1})  # type: ignore[arg-type]


def test_at_small_n_the_p_value_keeps_noise_from_drifting() -> None:
    # 40 rows of the same distribution: the effect sizes are noisy, the tests are not significant
    reference, current = frames(n=40, seed=11)
    section = analyse(reference, current, DriftConfig())
    city = _column(section, "city")
    assert city.value is not None and city.value > city.threshold  # noise above the threshold
    assert city.p_value is not None and city.p_value >= 0.05
    assert not city.drifted


def test_grade() -> None:
    assert grade(0.3, 1e-9, 0.1, 0.25, 0.05) == "significant"
    assert grade(0.3, None, 0.1, 0.25, 0.05) == "significant"  # no test (PSI): size decides
    assert grade(0.12, 1e-9, 0.1, 0.25, 0.05) == "retrain"
    assert grade(0.05, 1e-9, 0.1, 0.25, 0.05) == "pass"
    assert grade(0.9, 0.2, 0.1, 0.25, 0.05) == "pass"


def test_configured_methods() -> None:
    reference, current = frames()
    current["score"] = current["score"] + 0.3
    config = DriftConfig(methods={"score": "ks", "income": "psi", "city": "chi2", "age": "chi2"})
    section = analyse(reference, current, config)
    score = _column(section, "score")
    assert score.method == "ks"
    assert score.value == pytest.approx(ks_2samp(reference["score"], current["score"]).statistic)
    assert _column(section, "income").method == "psi"
    assert _column(section, "income").p_value is None
    city = _column(section, "city")
    assert city.method == "chi2" and city.value == pytest.approx(city.statistics["cramers_v"])
    assert _column(section, "age").kind == "categorical"


def test_numeric_methods_on_text_and_proportion_on_many_values_are_config_errors() -> None:
    reference, current = frames(n=200)
    with pytest.raises(ConfigError, match=r"drift.methods.city: ks needs a numeric column"):
        analyse(reference, current, DriftConfig(methods={"city": "ks"}))
    with pytest.raises(ConfigError, match=r"drift.methods.city: proportion needs"):
        analyse(reference, current, DriftConfig(methods={"city": "proportion"}))
    with pytest.raises(ConfigError, match=r"drift.methods: column 'nope'"):
        analyse(reference, current, DriftConfig(methods={"nope": "ks"}))


def test_low_cardinality_numbers_are_categorical_and_two_values_binary() -> None:
    rng = np.random.default_rng(2)
    reference = pd.DataFrame({"stars": rng.integers(1, 6, 3000), "flag": rng.integers(0, 2, 3000)})
    current = pd.DataFrame({"stars": rng.integers(1, 6, 3000), "flag": rng.integers(0, 2, 3000)})
    section = analyse(reference, current, DriftConfig())
    assert _column(section, "stars").kind == "categorical"
    assert _column(section, "flag").kind == "binary"
    assert _column(section, "flag").method == "proportion"


def test_binary_text_column_uses_the_last_label_as_positive() -> None:
    reference = pd.DataFrame({"answer": ["no"] * 700 + ["yes"] * 300})
    current = pd.DataFrame({"answer": ["no"] * 500 + ["yes"] * 500})
    column = analyse(reference, current, DriftConfig()).columns[0]
    assert column.statistics["p_reference"] == pytest.approx(0.3)
    assert column.statistics["p_current"] == pytest.approx(0.5)
    assert column.level == "significant"


def test_datetime_columns_are_numeric() -> None:
    base = pd.Timestamp("2024-01-01")
    reference = pd.DataFrame({"when": base + pd.to_timedelta(np.arange(500), unit="h")})
    current = pd.DataFrame({"when": base + pd.to_timedelta(np.arange(500) + 400, unit="h")})
    column = analyse(reference, current, DriftConfig()).columns[0]
    assert column.kind == "numeric"
    assert column.drifted


def test_selected_and_excluded_columns() -> None:
    reference, current = frames(n=300)
    section = analyse(reference, current, DriftConfig(columns=["score", "city"], exclude=["city"]))
    assert [c.column for c in section.columns] == ["score"]
    with pytest.raises(ConfigError, match=r"drift\.columns: column 'nope'"):
        analyse(reference, current, DriftConfig(columns=["nope"]))


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        (pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"b": [1.0, 2.0]}), "no common columns"),
        (pd.DataFrame({"a": [1.0]}).iloc[:0], pd.DataFrame({"a": [1.0]}), "empty"),
        (
            pd.DataFrame({"a": [1.0, 2.0]}),
            pd.DataFrame({"a": [np.nan, np.nan]}),
            "column 'a' has no values in current",
        ),
        (
            pd.DataFrame({"a": [1.0, 2.0]}),
            pd.DataFrame({"a": ["x", "y"]}),
            "column 'a' is number in reference but text in current",
        ),
    ],
)
def test_bad_inputs(reference, current, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=message):
        analyse(reference, current, DriftConfig())
