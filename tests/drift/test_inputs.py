"""Awkward but ordinary inputs: the same data stored differently compares as equal, small and
long-tailed samples are not called drift, and odd files give exit 2 naming the problem."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml_ci.config.drift import DriftConfig
from ml_ci.drift.engine import analyse
from ml_ci.drift.sources import Table
from ml_ci.record import load_record
from tests.drift.helpers import run_cli, write


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ml-ci.yaml here; the default record lands in tmp_path


def _times(n: int = 400) -> pd.DataFrame:
    start = pd.Timestamp("2024-01-01")
    offsets = pd.to_timedelta(np.random.default_rng(1).integers(0, 10**6, n), unit="s")
    return pd.DataFrame({"when": start + offsets})


def _parquet(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def test_timestamps_in_any_unit_compare_as_equal(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    frame = _times()
    write(frame, tmp_path / "seconds.csv")  # Arrow reads it as timestamp[s]
    micro = pa.Table.from_pandas(frame).cast(pa.schema([("when", pa.timestamp("us"))]))
    _parquet(micro, tmp_path / "micro.parquet")
    nano = micro.cast(pa.schema([("when", pa.timestamp("ns", tz="UTC"))]))
    _parquet(nano, tmp_path / "nano.parquet")
    for current in ("micro.parquet", "nano.parquet"):
        run = run_cli(["drift", "-r", "seconds.csv", "-c", current, "--json"], capsys)
        assert run.code == 0, run.err
        (column,) = run.json()["columns"]
        assert (column["method"], column["value"]) == ("wasserstein", 0.0)
        findings = {(q["check"], q["verdict"]) for q in run.json()["quality"] if q["column"]}
        assert findings == {("schema", "warn")}, run.json()["quality"]  # the unit changed


def test_dates_against_timestamps_and_readable_ranges() -> None:
    days = pd.Series(pd.date_range("2024-01-01", periods=300, freq="D"))
    as_dates = pa.table({"day": pa.array(days.dt.date)})  # date32
    as_times = pa.table({"day": pa.array(days, type=pa.timestamp("ms"))})
    same = analyse(Table.from_arrow(as_dates, "a"), Table.from_arrow(as_times, "b"), DriftConfig())
    assert same.columns[0].value == 0.0 and same.verdict == "pass"
    later = pa.table({"day": pa.array((days + pd.Timedelta(days=200)).dt.date)})
    moved = analyse(Table.from_arrow(as_dates, "a"), Table.from_arrow(later, "b"), DriftConfig())
    [finding] = [q for q in moved.quality if q.check == "out_of_range" and q.column]
    assert "above 2024-10-26" in (finding.detail or ""), finding.detail  # a date, not 1.7e9


def test_fractional_seconds_and_huge_integers_are_not_internal_errors(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "frac.csv").write_text(
        "when,n\n" + "".join(f"2024-01-01 10:00:0{i % 10}.00{i % 7},{i}\n" for i in range(50)),
        encoding="utf-8",
    )
    assert run_cli(["drift", "-r", "frac.csv", "-c", "frac.csv"], capsys).code == 0
    rng = np.random.default_rng(2)
    big = pa.table(
        {
            "hash": pa.array(rng.integers(2**60, 2**62, 500), type=pa.int64()),
            "unsigned": pa.array(rng.integers(0, 2**62, 500).astype(np.uint64) + 2**63),
        }
    )
    _parquet(big, tmp_path / "big.parquet")
    run = run_cli(["drift", "-r", "big.parquet", "-c", "big.parquet", "--json"], capsys)
    assert run.code == 0, run.err
    assert [c["value"] for c in run.json()["columns"]] == [0.0, 0.0]


def test_small_continuous_samples_are_numbers_not_categories() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 15), rng.normal(0, 1, 15)
    same = analyse(pd.DataFrame({"x": a}), pd.DataFrame({"x": b}), DriftConfig())
    (column,) = same.columns
    assert column.kind == "numeric" and not column.drifted
    assert same.verdict == "pass", same.quality  # no "unseen categories" for new floats
    moved = analyse(pd.DataFrame({"x": a}), pd.DataFrame({"x": b + 5}), DriftConfig())
    assert moved.columns[0].level == "significant"  # the exact KS test sees 5 sd at 15 rows
    codes = pd.DataFrame({"x": rng.integers(0, 4, 200)})  # few values, each repeated
    assert analyse(codes, codes, DriftConfig()).columns[0].kind == "categorical"


def test_without_drift_the_dataset_verdict_is_rarely_significant() -> None:
    """Same-distribution tables (numbers, a long-tailed category, a flag) at a few hundred
    rows: new extremes and new rare categories happen, and are expected."""
    rng = np.random.default_rng(4)
    zipf_labels = np.array([f"k{i}" for i in range(2000)])
    weights = 1 / np.arange(1, 2001)
    weights /= weights.sum()

    def table(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "a": rng.normal(0, 1, n),
                "b": rng.lognormal(0, 1, n),
                "c": rng.gamma(2, 2, n),
                "tail": rng.choice(zipf_labels, n, p=weights),
                "flag": rng.random(n) < 0.2,
            }
        )

    runs = 200
    significant = sum(
        analyse(table(300), table(300), DriftConfig(max_unique_share=1.0)).verdict == "significant"
        for _ in range(runs)
    )
    # one family of tests (Holm): a false alarm in at most ~alpha of the runs
    assert significant / runs <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs), significant / runs


def test_long_tail_categories_new_by_chance_pass_and_a_new_segment_fails() -> None:
    rng = np.random.default_rng(5)
    labels = np.array([f"k{i}" for i in range(5000)])
    weights = 1 / np.arange(1, 5001)
    weights /= weights.sum()
    ref = pd.DataFrame({"k": rng.choice(labels, 5000, p=weights)})
    cur = pd.DataFrame({"k": rng.choice(labels, 5000, p=weights)})
    tail = analyse(ref, cur, DriftConfig(max_unique_share=1.0))
    [finding] = [q for q in tail.quality if q.check == "unseen_categories" and q.column]
    assert finding.verdict == "pass", finding.detail
    cur.loc[:999, "k"] = "brand-new-segment"  # 20 % of rows: more than chance explains
    segment = analyse(ref, cur, DriftConfig(max_unique_share=1.0))
    [finding] = [q for q in segment.quality if q.check == "unseen_categories" and q.column]
    assert finding.verdict == "fail", finding.detail


def test_empty_csv_cells_are_missing_in_text_columns(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"city": ["paris", None, "lyon", None] * 50, "x": np.arange(200.0)})
    write(frame, tmp_path / "t.csv")
    write(frame, tmp_path / "t.parquet")
    run = run_cli(["drift", "-r", "t.parquet", "-c", "t.csv", "--json"], capsys)
    assert run.code == 1, run.err  # half missing > 10 %: that is the failure, not a category
    city = next(c for c in run.json()["columns"] if c["column"] == "city")
    assert city["value"] == 0.0
    failed = [(q["check"], q["column"], q["rows"]) for q in run.json()["quality"]]
    assert ("missing_values", "city", 100) in failed
    assert not any(check == "unseen_categories" and column for check, column, _ in failed)


def test_an_infinite_effect_is_null_in_json_and_the_record_stays_readable(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    write(pd.DataFrame({"v": np.full(100, 3.0)}), tmp_path / "const.parquet")
    write(pd.DataFrame({"v": np.linspace(0, 10, 100)}), tmp_path / "moved.parquet")
    (tmp_path / "ml-ci.yaml").write_text("drift:\n  methods: {v: wasserstein}\n", "utf-8")
    for _ in range(2):  # the second run reads the record the first one wrote
        run = run_cli(["drift", "-r", "const.parquet", "-c", "moved.parquet", "--json"], capsys)
        assert run.code == 1, run.err
        (column,) = json.loads(run.out)["columns"]  # strict JSON: no Infinity
        assert column["value"] is None and column["level"] == "significant"
    record = load_record(tmp_path / "ml-ci-record.json")
    assert record.drift is not None and math.isnan(record.drift.columns[0].value or math.nan)


def test_the_written_record_says_it_needs_a_human(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    write(pd.DataFrame({"v": np.full(100, 3.0)}), tmp_path / "const.parquet")
    write(pd.DataFrame({"v": np.linspace(0, 10, 100)}), tmp_path / "moved.parquet")
    run_cli(["drift", "-r", "const.parquet", "-c", "moved.parquet"], capsys)
    assert json.loads((tmp_path / "ml-ci-record.json").read_text())["needs_human"] is True


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"dup.csv": "a,a\n1,2\n3,4\n"}, "dup.csv: column name 'a' appears more than once"),
        ({"latin.csv": "name\ncaf\xe9\n"}, "latin.csv: column 'name' is not UTF-8 text"),
    ],
)
def test_odd_files_exit_2_naming_the_problem(
    tmp_path: Path,
    capsys,
    files: dict[str, str],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_bytes(text.encode("latin-1"))
        run = run_cli(["drift", "-r", name, "-c", name], capsys)
        assert run.code == 2 and message in run.err, run.err
        assert "Traceback" not in run.err


def test_nested_and_damaged_parquet_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _parquet(pa.table({"tags": [["a"], ["b", "c"]], "x": [1.0, 2.0]}), tmp_path / "n.parquet")
    run = run_cli(["drift", "-r", "n.parquet", "-c", "n.parquet"], capsys)
    assert run.code == 2 and "column 'tags' in n.parquet has type list<" in run.err, run.err
    good = _parquet(pa.table({"x": np.arange(5000.0)}), tmp_path / "good.parquet")
    data = bytearray(good.read_bytes())
    data[200:4000] = b"\x00" * 3800  # the column chunk, not the footer
    (tmp_path / "bad.parquet").write_bytes(bytes(data))
    run = run_cli(["drift", "-r", "good.parquet", "-c", "bad.parquet"], capsys)
    errors = [line for line in run.err.splitlines() if line.startswith("ml-ci:")]
    assert run.code == 2 and len(errors) == 1 and "bad.parquet: cannot read" in errors[0], run.err


def test_category_methods_on_continuous_numbers_are_config_errors(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    write(pd.DataFrame({"x": np.random.default_rng(6).normal(size=300)}), tmp_path / "x.csv")
    (tmp_path / "ml-ci.yaml").write_text("drift:\n  methods: {x: chi2}\n", "utf-8")
    run = run_cli(["drift", "-r", "x.csv", "-c", "x.csv"], capsys)
    assert run.code == 2 and "drift.methods.x: chi2 compares categories" in run.err, run.err


def test_listed_columns_are_checked_once_and_an_empty_list_is_explained(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    write(pd.DataFrame({"x": np.arange(100.0), "y": np.arange(100.0)}), tmp_path / "t.csv")
    (tmp_path / "ml-ci.yaml").write_text("drift:\n  columns: [x, x]\n", "utf-8")
    run = run_cli(["drift", "-r", "t.csv", "-c", "t.csv", "--json"], capsys)
    assert [c["column"] for c in run.json()["columns"]] == ["x"]
    (tmp_path / "ml-ci.yaml").write_text("drift:\n  columns: []\n", "utf-8")
    run = run_cli(["drift", "-r", "t.csv", "-c", "t.csv"], capsys)
    assert run.code == 2 and "drift.columns is empty" in run.err, run.err


def test_negative_zero_is_zero() -> None:
    rng = np.random.default_rng(7)
    # rounding a normal sample gives both -0.0 and 0.0; they are one category
    ref = pd.DataFrame({"x": np.round(rng.normal(size=300))})
    cur = pd.DataFrame({"x": np.round(rng.normal(size=300))})
    section = analyse(ref, cur, DriftConfig())
    assert section.verdict == "pass", (section.columns, section.quality)
    details = " ".join(q.detail or "" for q in section.quality)
    assert "'-0.0'" not in details and "'0.0'" not in details, details


def test_an_identifier_column_still_gets_its_quality_checks() -> None:
    ids = pd.DataFrame({"email": [f"u{i}@x.org" for i in range(300)], "v": np.arange(300.0)})
    broken = ids.assign(email=None)
    section = analyse(ids, broken.astype({"email": "string"}), DriftConfig())
    failed = {(q.check, q.column) for q in section.quality if q.verdict == "fail"}
    assert ("missing_values", "email") in failed and section.verdict == "significant"
    stuck = analyse(ids, ids.assign(email="u1@x.org"), DriftConfig())
    assert ("constant", "email") in {
        (q.check, q.column) for q in stuck.quality if q.verdict == "fail"
    }


def test_only_empty_csv_cells_are_missing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    countries = pd.DataFrame({"country": ["NA", "FR", "null", "DE"] * 50})
    write(countries, tmp_path / "c.csv")
    write(countries, tmp_path / "c.parquet")
    run = run_cli(["drift", "-r", "c.parquet", "-c", "c.csv", "--json"], capsys)
    assert run.code == 0, run.err  # Namibia is a country, not a missing value
    assert all(q["column"] is None for q in run.json()["quality"] if q["check"] != "schema")


def test_extreme_dates_and_values_are_not_internal_errors() -> None:
    far = pa.table({"d": pa.array([0, 1, 2, 2_932_896], type=pa.date32())})  # up to 9999-12-31
    later = pa.table({"d": pa.array([0, 1, 2, 2_932_896 + 400], type=pa.date32())})  # past 9999
    section = analyse(Table.from_arrow(far, "a"), Table.from_arrow(later, "b"), DriftConfig())
    assert section.columns[0].column == "d"
    rng = np.random.default_rng(8)
    huge = pd.DataFrame({"x": rng.normal(0, 1, 400) * 1e307})
    same = analyse(huge, pd.DataFrame({"x": rng.normal(0, 1, 400) * 1e307}), DriftConfig())
    assert math.isfinite(same.columns[0].value or math.inf) and same.columns[0].level == "pass"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_na_in_a_numeric_column_of_a_predictions_table_is_an_error(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
    suffix: str,
) -> None:
    rng = np.random.default_rng(3)
    score = rng.random(300).round(4).astype(object)
    frame = pd.DataFrame({"id": np.arange(300), "y_score": score, "segment": "NA"})
    write(frame, tmp_path / f"ref{suffix}")
    frame.loc[[4, 9], "y_score"] = "NA"  # meant as missing: only an empty cell is missing
    frame["y_score"] = frame["y_score"].astype(str)  # Parquet: a text column, like the CSV
    write(frame, tmp_path / f"cur{suffix}")
    for reference in (f"ref{suffix}", f"cur{suffix}"):  # NA on one side, and on both
        run = run_cli(["drift", "-r", reference, "-c", f"cur{suffix}"], capsys)
        lines = run.err.strip().splitlines()
        assert run.code == 2 and "Traceback" not in run.err, run.err
        assert f"cur{suffix}: column 'y_score'" in lines[-1], lines[-1]
        assert "'NA' (2 row(s))" in lines[-1] and "empty" in lines[-1], lines[-1]
