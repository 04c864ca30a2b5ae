"""Bad predictions tables: one exit-2 line naming the file, the column and the bad-row count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.compare.helpers import run_compare, write_binary

Edit = Callable[[pd.DataFrame], pd.DataFrame]


def _set(column: str, rows: list[int], value: object) -> Edit:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if isinstance(value, str) or value is None:
            frame[column] = frame[column].astype(object)
        frame.loc[rows, column] = value
        return frame

    return edit


CASES: list[tuple[str, Edit, list[str]]] = [
    ("missing column", lambda f: f.drop(columns=["y_score"]), ["'y_score'", "missing"]),
    ("duplicated ids", _set("id", [1, 2, 3], 0), ["4 row(s)", "duplicated", "'id'"]),
    ("nan score", _set("y_score", [5, 6], np.nan), ["'y_score'", "2 row(s)", "NaN"]),
    ("inf score", _set("y_score", [5], np.inf), ["'y_score'", "1 row(s)"]),
    ("score above 1", _set("y_score", [1, 2, 9], 1.5), ["'y_score'", "3 score(s)", "[0, 1]"]),
    ("label 2", _set("y_true", [4], 2), ["'y_true'", "1 label(s)", "0/1"]),
    ("text label", _set("y_pred", [4, 8], "yes"), ["'y_pred'", "2 row(s)", "0/1 or true/false"]),
    # the null rule: only an empty cell is missing; "NA" is text, and text is not a number
    ("NA score", _set("y_score", [5, 6, 7], "NA"), ["'y_score'", "'NA' (3 row(s))", "empty"]),
    ("NA label", _set("y_true", [5], "NA"), ["'y_true'", "'NA' (1 row(s))", "must hold numbers"]),
    ("rows only here", lambda f: f.iloc[:-7], ["7 row(s) of", "not in"]),
    ("empty", lambda f: f.iloc[:0], ["no rows"]),
    ("y_true differs", _set("y_true", [3, 4], 9), ["'y_true'"]),
]


@pytest.mark.parametrize(("label", "edit", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_candidate_table_is_a_one_line_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    label: str,
    edit: Edit,
    needles: list[str],
) -> None:
    base, cand = write_binary(tmp_path, n=50)
    frame = edit(pd.read_csv(cand))
    if label == "y_true differs":  # a valid label, but not the baseline's
        frame = pd.read_csv(cand)
        frame.loc[[3, 4], "y_true"] = 1 - frame.loc[[3, 4], "y_true"]
        needles = ["'y_true'", "2 row(s)", "differs"]
    frame.to_csv(cand, index=False)
    code = run_compare(tmp_path, base, cand, "task: binary\n")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    last = err[-1]
    assert last.startswith("ml-ci: ")
    assert "Traceback" not in "\n".join(err)
    for needle in needles:
        assert needle in last, (needle, last)
    assert str(cand) in last or str(base) in last


def test_rows_missing_from_the_candidate_are_counted_both_ways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = write_binary(tmp_path, n=50)
    frame = pd.read_csv(cand)
    frame.loc[0, "id"] = 1000  # one id only in the candidate, one only in the baseline
    frame.to_csv(cand, index=False)
    code = run_compare(tmp_path, base, cand, "task: binary\n")
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "1 row(s) have an 'id' not in" in last
    assert "and 1 row(s) of" in last


def test_multiclass_labels_outside_the_score_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1, 1, 1], 40)
    frame = pd.DataFrame(
        {"id": range(40), "y_true": rng.integers(0, 3, 40), "y_pred": proba.argmax(axis=1)}
    )
    for k in range(3):
        frame[f"y_score_{k}"] = proba[:, k]
    frame.to_csv(tmp_path / "b.csv", index=False)
    frame.loc[[0, 1], "y_true"] = 7
    frame.to_csv(tmp_path / "c.csv", index=False)
    code = run_compare(tmp_path, tmp_path / "b.csv", tmp_path / "c.csv", "task: multiclass\n")
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "'y_true' has 2 label(s) outside the known classes (0, 1, 2" in last


def test_yes_no_labels_say_what_binary_labels_must_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = write_binary(tmp_path, n=40)
    for path in (base, cand):
        frame = pd.read_csv(path)
        for column in ("y_true", "y_pred"):
            frame[column] = np.where(frame[column] == 1, "yes", "no")
        frame.to_csv(path, index=False)
    assert run_compare(tmp_path, base, cand, "task: binary\n") == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "'y_true'" in last and "'no'" in last and "'yes'" in last, last
    assert "binary labels must be 0/1 or true/false" in last
    assert "missing" not in last


def test_true_false_labels_and_na_as_a_slice_value_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = write_binary(tmp_path, n=200)
    for path in (base, cand):
        frame = pd.read_csv(path)
        frame["y_true"] = frame["y_true"].map({1: "true", 0: "false"})
        frame["segment"] = np.where(frame["segment"] == "small", "NA", "EU")  # region codes
        frame.to_csv(path, index=False)
    config = "task: binary\nslices:\n  columns: [segment]\n  min_size: 10\n"
    config += "gates:\n  - metric: accuracy\n    rule: non_inferior\n    margin: 0.5\n"
    assert run_compare(tmp_path, base, cand, config) == 0, capsys.readouterr().err


def test_a_missing_slice_column_names_slices_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = write_binary(tmp_path, n=50)
    config = "task: binary\nslices:\n  columns: [region, segment]\n"
    assert run_compare(tmp_path, base, cand, config) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "column 'region' is missing (slices.columns in ml-ci.yaml)" in last, last
    assert "predictions.slices" not in last


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_rows_without_a_slice_value_form_the_missing_slice_not_nan(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    base, cand = write_binary(tmp_path, n=200)
    paths = []
    for path in (base, cand):
        frame = pd.read_csv(path)
        frame["segment"] = np.where(np.arange(len(frame)) % 4 == 0, None, frame["segment"])
        frame["score_band"] = np.where(np.arange(len(frame)) % 5 == 0, np.nan, 1.0)
        frame["tier"] = np.where(np.arange(len(frame)) % 7 == 0, np.nan, np.arange(len(frame)) % 2)
        target = path.with_suffix(f".{suffix}")
        frame.to_parquet(target) if suffix == "parquet" else frame.to_csv(target, index=False)
        paths.append(target)
    config = "task: binary\nslices:\n  columns: [segment, score_band, tier]\n  min_size: 10\n"
    config += "gates:\n  - metric: accuracy\n    rule: non_inferior\n    margin: 0.5\n"
    assert run_compare(tmp_path, paths[0], paths[1], config) == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "record.json").read_text())
    shown = {m["slice"] for m in record["compare"]["metrics"] if m["slice"]}
    assert "segment=(missing)" in shown and "score_band=(missing)" in shown, shown
    assert {"tier=0", "tier=1", "tier=(missing)"} <= shown, shown  # integers stay integers
    assert not any(s.endswith(("=nan", "=None")) for s in shown), shown
