"""``ml-ci init`` infers the task from the predictions table; ``ml-ci validate`` checks the
config against that table. On fresh real git + DVC projects (tests/pack/projects.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ml_ci.config import TASK_METRICS
from ml_ci.pack.predictions import TASK_GATES, infer_task
from tests.pack.projects import tool_env


def ml_ci(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", *args],
        cwd=root, capture_output=True, text=True, env=tool_env(),
    )  # fmt: skip


# ------------------------------------------------------------------ inference rules (pure)


def test_score_columns_and_labels_decide_the_task() -> None:
    multi = infer_task(
        ["id", "y_true", "y_pred", "y_score_a", "y_score_b", "y_score_c"], ["a", "b", "c"]
    )
    assert multi.task == "multiclass" and multi.classes == ["a", "b", "c"]
    assert "y_score_a" in multi.reason and "3 classes" in multi.reason
    binary = infer_task(["id", "y_true", "y_pred", "y_score"], [0, 1])
    assert binary.task == "binary" and "'y_score'" in binary.reason
    # y_score plus y_score_<x> helper columns on a two-label table is still binary
    assert infer_task(["y_true", "y_score", "y_score_raw", "y_score_cal"], [0, 1]).task == "binary"
    regression = infer_task(["id", "y_true", "y_pred"], [1.5, 2.25, 3.0])
    assert regression.task == "regression" and "not all integers" in regression.reason
    assert infer_task(["id", "y_true", "y_pred"], list(range(25))).task == "regression"
    assert infer_task(["id", "y_true", "y_pred"], [0, 1, 2]).task == "multiclass"
    assert infer_task(["id", "y_true", "y_pred"], [True, False]).task == "binary"


def test_task_gates_use_the_task_metrics() -> None:
    for task, gates in TASK_GATES.items():
        assert gates and all(gate["metric"] in TASK_METRICS[task] for gate in gates)


# ------------------------------------------------------------------ on real projects


@pytest.mark.parametrize(("kind", "task"), [("wine", "multiclass"), ("diabetes", "regression")])
def test_init_infers_the_task_and_compare_runs(
    own_project: Callable[[str], Path], kind: str, task: str
) -> None:
    root = own_project(kind)
    done = ml_ci(root, "init", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["task"] == task
    written = yaml.safe_load((root / "ml-ci.yaml").read_text())
    assert written["task"] == task
    assert [g["metric"] for g in written["gates"]] == [g["metric"] for g in TASK_GATES[task]]
    text = ml_ci(root, "init", "--force")
    assert f"task    {task}: " in text.stdout and "predictions.csv" in text.stdout
    if task == "multiclass":
        assert "y_score_0" in result["task_reason"]
    else:
        assert "no score column" in result["task_reason"]

    valid = ml_ci(root, "validate", "--json")
    assert valid.returncode == 0, valid.stderr
    checked = json.loads(valid.stdout)["predictions"]
    test_rows = len((root / "data" / "test.csv").read_text().splitlines()) - 1
    assert checked["present"] and checked["task"] == task and checked["rows"] == test_rows

    baseline = ml_ci(root, "baseline", "--ref", "main")
    assert baseline.returncode == 0, baseline.stderr
    compare = ml_ci(root, "compare", "--json")
    assert compare.returncode in (0, 1), compare.stderr  # a verdict, not an input error
    section = json.loads(compare.stdout)
    gated = {gate["metric"] for gate in section["gates"]}
    assert gated == {g["metric"] for g in TASK_GATES[task]}
    assert section["n"] == test_rows


def test_validate_catches_a_binary_config_on_a_multiclass_table(
    own_project: Callable[[str], Path],
) -> None:
    root = own_project("wine")
    (root / "ml-ci.yaml").write_text("version: 1\ntask: binary\nmodel: {name: wine}\n")
    done = ml_ci(root, "validate")
    assert done.returncode == 2, done.stdout
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "task is 'binary'" in line and "multiclass" in line and "set task: multiclass" in line


def test_validate_reads_the_table_as_compare_does(own_project: Callable[[str], Path]) -> None:
    root = own_project("wine")
    (root / "ml-ci.yaml").write_text("version: 1\ntask: multiclass\nmodel: {name: wine}\n")
    table = root / "predictions.csv"
    lines = table.read_text().splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index("y_score_0")] = "0.9"  # the row's probabilities no longer sum to 1
    table.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    done = ml_ci(root, "validate")
    assert done.returncode == 2
    assert "predictions.csv" in done.stderr and "sum to 1" in done.stderr


def test_validate_without_a_table_checks_the_config_only(tmp_path: Path) -> None:
    (tmp_path / "ml-ci.yaml").write_text("version: 1\ntask: regression\n")
    done = ml_ci(tmp_path, "validate")
    assert done.returncode == 0, done.stderr
    assert "predictions.csv: not in the workspace" in done.stdout


def test_init_and_validate_say_when_the_evaluation_set_is_too_small(
    own_project: Callable[[str], Path],
) -> None:
    import pandas as pd
    from scipy.stats import norm

    root = own_project("wine")
    done = ml_ci(root, "init", "--json")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(root / "predictions.csv")
    n = len(table)
    wrong = float((table["y_pred"] != table["y_true"]).mean())
    # planned MDE, one-sided alpha 0.05, power 0.8, disagreement = the baseline's error rate
    mde = (norm.ppf(0.95) + norm.ppf(0.8)) * (wrong / n) ** 0.5
    assert mde > 0.02  # the written accuracy margin: the 72-row set is too small for it
    (warning,) = json.loads(done.stdout)["warnings"]
    assert f"gate accuracy (non_inferior, margin 0.02): with {n} rows" in warning
    assert f"minimum detectable effect is {mde:.3f}" in warning
    assert f"about {int(-(-n * (mde / 0.02) ** 2 // 1))} rows" in warning
    valid = ml_ci(root, "validate")
    assert valid.returncode == 0 and f"warning: {warning}" in valid.stdout

    config = root / "ml-ci.yaml"  # a margin above the MDE: nothing to say
    config.write_text(config.read_text().replace("margin: 0.02", f"margin: {mde + 0.005:.3f}"))
    quiet = ml_ci(root, "validate", "--json")
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["predictions"]["too_small"] == []


def test_init_reads_the_dvc_output_when_the_table_is_not_checked_out(
    own_project: Callable[[str], Path],
) -> None:
    from ml_ci.pack.init import locked_md5

    lock = {"stages": {"p": {"outs": [{"path": "./out/predictions.csv", "md5": "a" * 32}]}}}
    assert locked_md5(lock, "out/predictions.csv") == "a" * 32
    assert locked_md5(lock, "predictions.csv") is None
    assert locked_md5({"stages": {"p": {"outs": "x"}}}, "x") is None

    root = own_project("wine")
    (root / "predictions.csv").unlink()  # e.g. after `dvc fetch`: in the cache, not checked out
    done = ml_ci(root, "init", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["task"] == "multiclass", result["task_reason"]
    assert "predictions.csv (its DVC output in .dvc/cache)" in result["task_reason"]
    assert not (root / "predictions.csv").exists()  # init read it, never checked it out


def test_validate_trusts_the_config_when_only_label_counts_suggest_a_task(tmp_path: Path) -> None:
    # integer ratings 1..5 without score columns: a regression target is as likely as classes
    rows = "\n".join(f"{i},{1 + i % 5},{1 + (i + 1) % 5}" for i in range(50))
    (tmp_path / "predictions.csv").write_text("id,y_true,y_pred\n" + rows + "\n")
    guess = infer_task(["id", "y_true", "y_pred"], [1, 2, 3, 4, 5])
    assert guess.task == "multiclass" and not guess.certain
    (tmp_path / "ml-ci.yaml").write_text("version: 1\ntask: regression\n")
    done = ml_ci(tmp_path, "validate", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["predictions"]["task"] == "regression"
    (tmp_path / "ml-ci.yaml").write_text("version: 1\ntask: multiclass\n")
    wrong = ml_ci(tmp_path, "validate")
    assert wrong.returncode == 2 and "y_score_<class>" in wrong.stderr
