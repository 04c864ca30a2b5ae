"""``ml-ci baseline`` on the bundled example (real git + DVC), then ``ml-ci compare``."""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ml_ci import gitutil
from ml_ci.cli import main
from ml_ci.compare.baseline import render_command
from ml_ci.example import ExampleRepo


@pytest.fixture(autouse=True)
def _dvc_logs_to_a_stream_that_stays_open() -> Iterator[None]:
    """``ml-ci baseline`` calls DVC in-process; DVC binds its log handlers to the test's
    captured stderr, which pytest closes afterwards. Point them at the real stderr when the
    test ends, so later tests in this worker (and tests/conftest.py) see an open stream."""
    yield
    for handler in logging.getLogger("dvc").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = sys.__stderr__


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _edit_config(root: Path, **changes: object) -> None:
    path = root / "ml-ci.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_baseline_scores_the_main_model_on_the_candidate_rows(
    example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = example_repo.root
    monkeypatch.chdir(root)
    model_before = _md5(root / "models" / "model.pkl")
    assert main(["baseline", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["commit"] == gitutil.merge_base(root, "HEAD", "main") == example_repo.main_sha
    base = pd.read_csv(root / "baseline-predictions.csv")
    cand = pd.read_csv(root / "predictions.csv")
    assert list(base["id"]) == list(cand["id"])  # the candidate's rows
    assert list(base["y_true"]) == list(cand["y_true"])
    assert not base["y_score"].equals(cand["y_score"])  # another model scored them
    # nothing was checked out: the working tree's model and files are untouched
    assert _md5(root / "models" / "model.pkl") == model_before
    status = gitutil.git(["status", "--porcelain"], root)
    assert status.splitlines() == ["?? baseline-predictions.csv"]
    code = main(["compare", "--json", "--output", "rec.json"])
    payload = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert payload["verdict"] in ("pass", "fail", "inconclusive")
    assert {g["metric"] for g in payload["gates"]} == {"roc_auc", "accuracy", "log_loss"}


def test_timed_predict_runs_feed_the_latency_gate(
    example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = example_repo.root
    monkeypatch.chdir(root)
    _edit_config(
        root,
        latency={"repeats": 1},
        slices={"columns": []},
        gates=[{"metric": "latency_p95_ms", "rule": "absolute", "max": 600000}],
    )
    assert main(["baseline", "--ref", "main", "--output", "out/base.csv"]) == 0
    timing = json.loads((root / "out" / "base.csv.timing.json").read_text())
    assert len(timing["baseline_ms"]) == 1 and len(timing["candidate_ms"]) == 1
    assert all(ms > 0 for ms in timing["baseline_ms"] + timing["candidate_ms"])
    capsys.readouterr()
    assert main(["compare", "--baseline", "out/base.csv", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    p95 = next(m for m in payload["metrics"] if m["name"] == "latency_p95_ms")
    assert p95["method"].startswith("timing (1 run(s)")
    assert p95["candidate"] == pytest.approx(timing["candidate_ms"][0])
    assert p95["baseline"] == pytest.approx(timing["baseline_ms"][0])
    assert payload["gates"][0]["verdict"] == "pass"


def test_baseline_configuration_errors_are_exit_2(
    example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = example_repo.root
    monkeypatch.chdir(root)
    assert main(["baseline", "--ref", "no-such-branch"]) == 2
    assert "no-such-branch" in capsys.readouterr().err
    _edit_config(root, baseline={"stage": "production"})
    assert main(["baseline"]) == 2
    assert "production" in capsys.readouterr().err
    _edit_config(root, baseline={}, predict={"data": "data/test.csv"})
    assert main(["baseline"]) == 2
    assert "predict.command is not set" in capsys.readouterr().err


def test_render_command_shell_quotes_paths() -> None:
    command = render_command(
        "python p.py --model {model} --data {data} --output {output}",
        Path("/tmp/a b/model.pkl"),
        Path("data/it's.csv"),
        Path("out.csv"),
    )
    assert shlex.split(command) == [
        "python",
        "p.py",
        "--model",
        "/tmp/a b/model.pkl",
        "--data",
        "data/it's.csv",
        "--output",
        "out.csv",
    ]


PREDICT = "python src/predict.py --model {model} --data {data}"


def _workspace_state(root: Path) -> dict[str, str]:
    """md5 of the candidate's predictions, model and any old baseline table, and git status."""
    state = {name: _md5(root / name) for name in ("predictions.csv", "models/model.pkl")}
    if (root / "baseline-predictions.csv").exists():
        state["baseline-predictions.csv"] = _md5(root / "baseline-predictions.csv")
    state["status"] = gitutil.git(["status", "--porcelain"], root)
    return state


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # what users copy from dvc.yaml: no {output} at all -> refused before anything runs
        (PREDICT + " --output predictions.csv", "does not use {output}"),
        # {output} mentioned but ignored: it runs (in the worktree) and is refused afterwards
        (PREDICT + " --output predictions.csv # {output}", "did not write the {output} path"),
    ],
)
def test_a_fixed_output_path_never_touches_the_candidate_files(
    example_repo: ExampleRepo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    template: str,
    expected: str,
) -> None:
    root = example_repo.root
    monkeypatch.chdir(root)
    (root / "baseline-predictions.csv").write_text("id,y_true\n1,0\n", encoding="utf-8")  # stale
    _edit_config(root, predict={"command": template, "data": "data/test.csv"})
    before = _workspace_state(root)
    assert main(["baseline"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert expected in err[-1] and "Traceback" not in "\n".join(err), err
    assert _workspace_state(root) == before  # byte-identical; nothing was overwritten
    assert gitutil.git(["worktree", "list"], root).count("\n") == 0  # the sandbox is gone


def test_a_command_writing_into_the_workspace_is_caught(
    example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = example_repo.root
    monkeypatch.chdir(root)
    target = shlex.quote(str(root / "predictions.csv"))
    _edit_config(
        root,
        predict={
            "command": PREDICT + f" --output {{output}} && cp {{output}} {target}",
            "data": "data/test.csv",
        },
    )
    assert main(["baseline"]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "changed predictions.csv in the workspace" in line, line
    assert not (root / "baseline-predictions.csv").exists()  # no table from a tainted run


def test_score_model_uses_the_code_at_code_rev_and_sees_other_dvc_outputs(
    example_repo: ExampleRepo, tmp_path: Path
) -> None:
    from ml_ci.compare.baseline import score_model
    from ml_ci.config import load_config

    root = example_repo.root
    # uncommitted breakage of the predict code: the worktree at HEAD must not see it
    (root / "src" / "predict.py").write_text("raise SystemExit('uncommitted code ran')\n")
    # predict code that reads another DVC output (data/train.csv, like an encoder) by a
    # relative path finds it; the workspace's model is NOT there (only {model} is)
    check = (
        "python -c \"import pathlib, sys; sys.exit(not pathlib.Path('data/train.csv').is_file()"
        " or pathlib.Path('models/model.pkl').exists())\" && "
    )
    _edit_config(
        root, predict={"command": check + PREDICT + " --output {output}", "data": "data/test.csv"}
    )
    config = load_config(root / "ml-ci.yaml")
    before = _md5(root / "predictions.csv")
    output = tmp_path / "out" / "main.csv"
    elapsed = score_model(
        root,
        config,
        model_rev=example_repo.main_sha,
        data_file=root / "data" / "test.csv",
        output=output,
        code_rev=example_repo.main_sha,
        repeats=2,
    )
    assert len(elapsed) == 2 and all(ms > 0 for ms in elapsed)
    scored = pd.read_csv(output)
    cand = pd.read_csv(root / "predictions.csv")
    assert list(scored["id"]) == list(cand["id"])
    assert not scored["y_score"].equals(cand["y_score"])  # main's model, not the candidate's
    assert _md5(root / "predictions.csv") == before
    assert (root / "data" / "train.csv").is_file()  # removing the sandbox kept the link target
    assert gitutil.git(["worktree", "list"], root).count("\n") == 0


def test_a_wrong_model_path_says_it_is_not_a_dvc_output_or_git_file(
    example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = example_repo.root
    monkeypatch.chdir(root)
    _edit_config(root, model={"name": "breast-cancer", "path": "models/modle.pkl"})
    assert main(["baseline"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    line = err[-1]
    assert "model.path 'models/modle.pkl' is not a DVC output or a git file at" in line, err
    assert example_repo.main_sha[:12] in line
    assert "pull" not in line and "Traceback" not in "\n".join(err)
